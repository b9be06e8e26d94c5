#pragma once
// An incremental UTF-8 validator (RFC 3629, as RFC 6455 section 8.1 requires of text
// messages): feed a message in pieces as they arrive — fragments, reads — and it fails at
// the first byte that cannot start or continue a valid sequence, not at the end of the
// message. Overlong forms, surrogates (U+D800..DFFF) and code points above U+10FFFF are
// invalid. ASCII runs are checked eight bytes at a time.
//
// Nothing here suspends or allocates; any shard.
#include <cstdint>
#include <string_view>

namespace dusty::http::ws {

class utf8_validator {
 public:
  /// Checks the next piece. False once anything fed so far is invalid (and from then on).
  bool feed(std::string_view piece) noexcept;
  /// True when everything fed is valid and no sequence is left open: a message may end here.
  bool complete() const noexcept { return !failed_ && need_ == 0; }
  /// True when nothing invalid has been seen (a sequence may still be open).
  bool ok() const noexcept { return !failed_; }
  void reset() noexcept { *this = utf8_validator(); }

 private:
  std::uint8_t need_ = 0;     // continuation bytes still expected
  std::uint8_t lo_ = 0x80;    // range allowed for the next continuation byte
  std::uint8_t hi_ = 0xBF;
  bool failed_ = false;
};

/// True if `text` is complete, valid UTF-8.
inline bool valid_utf8(std::string_view text) noexcept {
  utf8_validator v;
  return v.feed(text) && v.complete();
}

}  // namespace dusty::http::ws
