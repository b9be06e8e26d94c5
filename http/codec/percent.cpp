#include <dusty/http/codec/percent.hpp>

#include <dusty/http/detail/ascii.hpp>

#include <cassert>

namespace dusty::http {
namespace {

bool is_escape(std::string_view in, std::size_t i) noexcept {
  return i + 2 < in.size() && in[i] == '%' && detail::hex_value(in[i + 1]) >= 0 &&
         detail::hex_value(in[i + 2]) >= 0;
}

}  // namespace

bool needs_decoding(std::string_view in, plus_is_space plus) noexcept {
  for (std::size_t i = 0; i < in.size(); ++i) {
    if ((in[i] == '+' && plus == plus_is_space::yes) || is_escape(in, i)) {
      return true;
    }
  }
  return false;
}

std::size_t percent_decode(std::string_view in, std::span<char> out, plus_is_space plus) noexcept {
  assert(out.size() >= in.size());
  std::size_t o = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (is_escape(in, i)) {
      c = static_cast<char>(detail::hex_value(in[i + 1]) << 4 | detail::hex_value(in[i + 2]));
      i += 2;
    } else if (c == '+' && plus == plus_is_space::yes) {
      c = ' ';
    }
    out[o++] = c;
  }
  return o;
}

std::string percent_decode(std::string_view in, plus_is_space plus) {
  std::string out(in.size(), '\0');
  out.resize(percent_decode(in, out, plus));
  return out;
}

void percent_encode(std::string& out, std::string_view in) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (char c : in) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 0xf];
    }
  }
}

}  // namespace dusty::http
