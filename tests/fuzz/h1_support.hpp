#pragma once
// For the HTTP/1 targets: feeding a body decoder in pieces, and a reference chunked decoder.
#include "fuzz.hpp"

#include <dusty/http/h1/body_decoder.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace dusty::fuzz {

/// What a body decoder made of an input: the body, the bytes consumed (0 after an error),
/// and how it ended.
struct decoded_body {
  std::string body;
  std::size_t consumed = 0;
  bool done = false;
  std::error_code error;
  friend bool operator==(const decoded_body&, const decoded_body&) = default;
};

/// Feeds `in` to `d` in pieces of at most `piece` bytes, as a connection's reads would.
inline decoded_body decode_body(http::h1::body_decoder d, std::string_view in, std::size_t piece) {
  decoded_body out;
  while (!d.done() && out.consumed < in.size()) {
    auto r = d.decode(in.substr(out.consumed, piece));
    if (!r) {
      out.error = r.error();
      out.consumed = 0;  // how much framing came before the error depends on the pieces
      break;
    }
    DUSTY_FUZZ_CHECK(r->consumed > 0);  // documented: progress whenever input is left
    out.body += r->data;
    out.consumed += r->consumed;
  }
  out.done = d.done();
  DUSTY_FUZZ_CHECK(d.body_size() == out.body.size());
  return out;
}

/// A chunked body (RFC 9112 section 7.1) decoded the plain way, from the whole input at
/// once: the body and the bytes it took, or nothing when the input is malformed or ends
/// early. More lenient than body_decoder (extensions and trailer fields are not checked
/// beyond their line endings), so whatever body_decoder completes, this completes alike.
inline std::optional<decoded_body> reference_chunked(std::string_view in) {
  decoded_body out;
  std::size_t i = 0;
  auto next_line = [&]() -> std::optional<std::string_view> {
    auto end = in.find("\r\n", i);
    if (end == std::string_view::npos) return std::nullopt;
    auto line = in.substr(i, end - i);
    i = end + 2;
    if (line.find_first_of("\r\n") != std::string_view::npos) return std::nullopt;  // bare CR or LF
    return line;
  };
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (;;) {
    auto line = next_line();
    if (!line) return std::nullopt;
    std::uint64_t size = 0;
    std::size_t digits = 0;
    for (; digits < line->size() && hex((*line)[digits]) >= 0; ++digits) {
      if (size >> 60 != 0) return std::nullopt;  // would overflow
      size = size * 16 + static_cast<std::uint64_t>(hex((*line)[digits]));
    }
    if (digits == 0) return std::nullopt;
    auto ext = line->substr(digits);
    auto semi = ext.find_first_not_of(" \t");
    if (semi != std::string_view::npos && ext[semi] != ';') return std::nullopt;
    if (size == 0) break;
    if (in.size() - i < size || in.size() - i - size < 2) return std::nullopt;
    out.body += in.substr(i, size);
    i += size;
    if (in.substr(i, 2) != "\r\n") return std::nullopt;
    i += 2;
  }
  for (;;) {  // trailer section, up to its empty line
    auto line = next_line();
    if (!line) return std::nullopt;
    if (line->empty()) break;
  }
  out.consumed = i;
  out.done = true;
  return out;
}

/// The property both HTTP/1 targets check for a chunked body: body_decoder, fed whole and
/// byte by byte, agrees with itself, and with the reference wherever it completes.
inline decoded_body check_chunked(std::string_view in, const http::h1::body_limits& limits = {}) {
  auto d = http::h1::body_decoder::create(http::h1::body_framing::chunked, 0, limits);
  DUSTY_FUZZ_CHECK(d.has_value());
  auto whole = decode_body(*d, in, in.size());
  DUSTY_FUZZ_CHECK(decode_body(*d, in, 1) == whole);
  auto ref = reference_chunked(in);
  if (whole.done) {
    DUSTY_FUZZ_CHECK(ref.has_value());
    DUSTY_FUZZ_CHECK(ref->body == whole.body && ref->consumed == whole.consumed);
  } else if (!whole.error) {
    DUSTY_FUZZ_CHECK(!ref.has_value());  // not complete for one, complete for the other
  }
  return whole;
}

}  // namespace dusty::fuzz
