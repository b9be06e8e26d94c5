#pragma once

// Reader for the markdown case files in tests/http/h1/data (format: see data/README.md).

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dusty::http::testing {

struct test_case {
  std::string file;
  std::string name;
  int line = 0;
  std::string input;                          // decoded bytes of the ```request block
  std::map<std::string, std::string> limits;  // ```limits block, key=value
  std::string expect;                         // ```expect block, lines joined with '\n'
};

// Keeps gtest from dumping the bytes of a case when a parameterised test fails.
inline void PrintTo(const test_case& c, std::ostream* os) { *os << c.file << ":" << c.line; }

inline std::filesystem::path data_dir() {
  if (const char* root = std::getenv("DUSTY_SOURCE_DIR"); root != nullptr && *root != '\0') {
    return std::filesystem::path{root} / "tests" / "http" / "h1" / "data";
  }
  return std::filesystem::path{__FILE__}.parent_path() / "data";
}

// Expands {{N x TEXT}} to TEXT repeated N times.
inline std::string expand_repeats(std::string_view line) {
  std::string out;
  while (true) {
    auto open = line.find("{{");
    if (open == std::string_view::npos) {
      out += line;
      return out;
    }
    auto close = line.find("}}", open);
    auto x = line.find(" x ", open);
    if (close == std::string_view::npos || x == std::string_view::npos || x > close) {
      throw std::runtime_error("bad {{N x TEXT}} in: " + std::string{line});
    }
    out += line.substr(0, open);
    auto count = std::stoul(std::string{line.substr(open + 2, x - open - 2)});
    auto text = line.substr(x + 3, close - x - 3);
    for (unsigned long i = 0; i < count; ++i) {
      out += text;
    }
    line.remove_prefix(close + 2);
  }
}

// Decodes \r \n \t \\ \" and \xHH.
inline std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char e = s[++i];
    switch (e) {
      case 'r': out += '\r'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case 'x':
        if (i + 2 >= s.size()) {
          throw std::runtime_error("truncated \\x escape");
        }
        out += static_cast<char>(std::stoi(std::string{s.substr(i + 1, 2)}, nullptr, 16));
        i += 2;
        break;
      default: throw std::runtime_error(std::string{"unknown escape \\"} + e);
    }
  }
  return out;
}

// The inverse of unescape for logs: printable ASCII as is, the rest escaped.
inline std::string escape(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (u < 0x20 || u >= 0x7f) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

inline std::vector<test_case> load_cases(const std::string& file) {
  std::ifstream in{data_dir() / file};
  if (!in) {
    throw std::runtime_error("cannot open " + (data_dir() / file).string());
  }
  std::vector<test_case> cases;
  std::string line;
  std::string block;  // name of the fenced block we are in, or empty
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (block.empty()) {
      if (line.starts_with("## ")) {
        cases.push_back({file, line.substr(3), number, {}, {}, {}});
      } else if (line.starts_with("```") && line.size() > 3) {
        if (cases.empty()) {
          throw std::runtime_error(file + ":" + std::to_string(number) + ": block outside a case");
        }
        block = line.substr(3);
      }
      continue;
    }
    if (line == "```") {
      block.clear();
      continue;
    }
    auto& c = cases.back();
    if (block == "request" || block == "response") {  // response: client-side cases
      c.input += unescape(expand_repeats(line));
    } else if (block == "limits") {
      auto eq = line.find('=');
      if (eq == std::string::npos) {
        throw std::runtime_error(file + ":" + std::to_string(number) + ": limits need key=value");
      }
      c.limits[line.substr(0, eq)] = line.substr(eq + 1);
    } else if (block == "expect") {
      // A line that is only {{N x TEXT}} stands for N lines of TEXT.
      if (line.starts_with("{{") && line.ends_with("}}") && line.find("}}") == line.size() - 2) {
        auto x = line.find(" x ");
        auto count = std::stoul(line.substr(2, x - 2));
        for (unsigned long i = 0; i < count; ++i)
          c.expect += line.substr(x + 3, line.size() - x - 5) + '\n';
      } else {
        c.expect += line;
        c.expect += '\n';
      }
    } else {
      throw std::runtime_error(file + ":" + std::to_string(number) + ": unknown block " + block);
    }
  }
  return cases;
}

}  // namespace dusty::http::testing
