#pragma once
// Reader for the WebSocket frame cases in tests/http/ws/data (format: data/README.md).
// Reuses the escapes and repeats of the HTTP/1 case files.
#include "http/h1/case_file.hpp"

#include <dusty/http/ws/frame.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace dusty::http::ws_test {

using testing::escape;
using testing::expand_repeats;
using testing::test_case;
using testing::unescape;

inline std::filesystem::path data_dir() {
  if (const char* root = std::getenv("DUSTY_SOURCE_DIR"); root != nullptr && *root != '\0')
    return std::filesystem::path{root} / "tests" / "http" / "ws" / "data";
  return std::filesystem::path{__FILE__}.parent_path() / "data";
}

// One frame from "@fin=1 rsv=0 op=1 mask=37fa213d len=N payload": the header with the
// shortest length encoding (or `len`), then the payload, masked with `mask` if given.
inline std::string frame_line(std::string_view spec) {
  std::istringstream in{std::string(spec)};
  unsigned fin = 1, rsv = 0, op = 1;
  std::string mask_hex;
  std::optional<std::uint64_t> len;
  std::string word;
  std::string payload;
  while (in >> word) {
    auto eq = word.find('=');
    auto key = word.substr(0, eq);
    auto value = eq == std::string::npos ? std::string() : word.substr(eq + 1);
    if (key == "fin") fin = std::stoul(value);
    else if (key == "rsv") rsv = std::stoul(value);
    else if (key == "op") op = std::stoul(value, nullptr, 16);
    else if (key == "mask") mask_hex = value;
    else if (key == "len") len = std::stoull(value);
    else if (key == "payload") {
      std::string rest;
      std::getline(in, rest);
      payload = unescape(expand_repeats(value + rest));
      break;
    } else throw std::runtime_error("bad frame spec: " + std::string(spec));
  }
  ws::mask_key key{};
  if (!mask_hex.empty()) {
    if (mask_hex.size() != 8) throw std::runtime_error("mask needs 8 hex digits");
    for (int i = 0; i < 4; ++i) key[i] = std::byte(std::stoul(mask_hex.substr(2 * i, 2), nullptr, 16));
  }
  std::array<std::byte, ws::max_header_size> head;
  auto n = ws::write_header(head, static_cast<ws::opcode>(op), fin != 0, len.value_or(payload.size()),
                            mask_hex.empty() ? nullptr : &key, static_cast<std::uint8_t>(rsv));
  std::string bytes(reinterpret_cast<const char*>(head.data()), n);
  if (!mask_hex.empty()) ws::apply_mask(std::as_writable_bytes(std::span(payload.data(), payload.size())), key);
  return bytes + payload;
}

inline std::vector<test_case> load_cases(const std::string& file) {
  std::ifstream in{data_dir() / file};
  if (!in) throw std::runtime_error("cannot open " + (data_dir() / file).string());
  std::vector<test_case> cases;
  std::string line, block;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (block.empty()) {
      if (line.starts_with("## ")) {
        cases.push_back({file, line.substr(3), number, {}, {}, {}});
      } else if (line.starts_with("```") && line.size() > 3) {
        if (cases.empty()) throw std::runtime_error(file + ":" + std::to_string(number) + ": block outside a case");
        block = line.substr(3);
      }
      continue;
    }
    if (line == "```") {
      block.clear();
      continue;
    }
    auto& c = cases.back();
    if (block == "frames") {
      c.input += line.starts_with("@") ? frame_line(line.substr(1)) : unescape(expand_repeats(line));
    } else if (block == "limits") {
      auto eq = line.find('=');
      if (eq == std::string::npos) throw std::runtime_error(file + ":" + std::to_string(number) + ": key=value");
      c.limits[line.substr(0, eq)] = line.substr(eq + 1);
    } else if (block == "expect") {
      c.expect += line + '\n';
    } else {
      throw std::runtime_error(file + ":" + std::to_string(number) + ": unknown block " + block);
    }
  }
  return cases;
}

}  // namespace dusty::http::ws_test
