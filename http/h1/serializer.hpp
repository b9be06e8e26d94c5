#pragma once
// The HTTP/1 wire format of what dusty writes: status lines, field lines, chunk framing.
// The server's response heads, the client's request heads and http::testing's chunked
// bodies all come from here. Fields are validated before they get here (fields.hpp);
// this layer only frames.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace dusty::http::h1 {

/// Ends a chunked body (no trailer fields).
inline constexpr std::string_view last_chunk = "0\r\n\r\n";
/// Ends a chunk's data.
inline constexpr std::string_view chunk_end = "\r\n";

/// The line that opens a chunk of `size` bytes: the size in hex, then CRLF.
class chunk_header {
 public:
  explicit chunk_header(std::uint64_t size) noexcept {
    auto end = std::to_chars(buf_, buf_ + 16, size, 16).ptr;
    *end++ = '\r';
    *end++ = '\n';
    len_ = static_cast<unsigned char>(end - buf_);
  }
  std::string_view view() const noexcept { return {buf_, len_}; }

 private:
  char buf_[18];
  unsigned char len_;
};

/// Appends `n` in decimal.
inline void append_number(std::string& out, std::uint64_t n) {
  char buf[20];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

/// Appends "name: value\r\n".
inline void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

/// Appends "HTTP/1.1 <status> <reason>\r\n".
void append_status_line(std::string& out, unsigned status);

}  // namespace dusty::http::h1
