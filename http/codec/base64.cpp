#include <dusty/http/codec/base64.hpp>

namespace dusty::http {

namespace {
constexpr std::string_view b64_std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c, bool url_safe) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == (url_safe ? '-' : '+')) return 62;
  if (c == (url_safe ? '_' : '/')) return 63;
  // urlsafe_b64decode translates -_ to +/ and then decodes with the standard alphabet,
  // so the standard characters are accepted there too.
  if (url_safe && c == '+') return 62;
  if (url_safe && c == '/') return 63;
  return -1;
}
}  // namespace

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(in[k]); };
  for (; i + 3 <= in.size(); i += 3) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += b64_std[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = byte(i) << 16;
    out += b64_std[(v >> 18) & 63];
    out += b64_std[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8;
    out += b64_std[(v >> 18) & 63];
    out += b64_std[(v >> 12) & 63];
    out += b64_std[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// Python's binascii.a2b_base64 in its default, non-strict mode: characters outside the
// alphabet are skipped, '=' before the third character of a quantum is skipped, and the
// input ends at the padding that completes a quantum.
std::optional<std::string> base64_decode(std::string_view in, bool url_safe) {
  std::string out;
  out.reserve(in.size() / 4 * 3 + 3);
  unsigned acc = 0;
  int pos = 0;   // characters in the current quantum
  int pads = 0;  // '=' seen at position 2 or 3
  for (char c : in) {
    if (c == '=') {
      if (pos >= 2) {
        ++pads;
        if ((pos == 2 && pads == 2) || (pos == 3 && pads == 1)) return out;
      }
      continue;
    }
    int v = b64_value(c, url_safe);
    if (v < 0) continue;
    pads = 0;
    acc = acc << 6 | static_cast<unsigned>(v);
    if (++pos == 4) {
      out += static_cast<char>(acc & 0xff);
      acc = 0;
      pos = 0;
    } else if (pos == 2) {
      out += static_cast<char>((acc >> 4) & 0xff);
    } else if (pos == 3) {
      out += static_cast<char>((acc >> 2) & 0xff);
    }
  }
  if (pos != 0) return std::nullopt;  // a dangling character or missing padding
  return out;
}

}  // namespace dusty::http
