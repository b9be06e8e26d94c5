#include <dusty/http/ws/utf8.hpp>

#include <cstring>

namespace dusty::http::ws {

bool utf8_validator::feed(std::string_view piece) noexcept {
  if (failed_) return false;
  auto p = reinterpret_cast<const unsigned char*>(piece.data());
  const auto end = p + piece.size();
  while (p < end) {
    if (need_ == 0) {
      while (end - p >= 8) {
        std::uint64_t word;
        std::memcpy(&word, p, 8);
        if (word & 0x8080808080808080ull) break;
        p += 8;
      }
      if (p == end) break;
      unsigned char c = *p++;
      if (c < 0x80) continue;
      // Table 3-7 of the Unicode standard: the second byte's range depends on the first.
      if (c < 0xC2) {
        failed_ = true;  // a continuation byte, or an overlong two-byte form
      } else if (c < 0xE0) {
        need_ = 1, lo_ = 0x80, hi_ = 0xBF;
      } else if (c < 0xF0) {
        need_ = 2, lo_ = c == 0xE0 ? 0xA0 : 0x80, hi_ = c == 0xED ? 0x9F : 0xBF;
      } else if (c < 0xF5) {
        need_ = 3, lo_ = c == 0xF0 ? 0x90 : 0x80, hi_ = c == 0xF4 ? 0x8F : 0xBF;
      } else {
        failed_ = true;
      }
    } else {
      unsigned char c = *p++;
      if (c < lo_ || c > hi_) {
        failed_ = true;
      } else {
        --need_;
        lo_ = 0x80, hi_ = 0xBF;
      }
    }
    if (failed_) return false;
  }
  return true;
}

}  // namespace dusty::http::ws
