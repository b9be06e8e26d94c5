#pragma once
// HTTP request methods and small sets of them.
//
// All functions here are pure, allocation-free (except `method_set::to_string`) and may be
// called from any shard.

#include <cstdint>
#include <string>
#include <string_view>

namespace dusty::http {

/// A request method.
///
/// The nine methods of RFC 9110 and RFC 5789 (PATCH) have their own value; every other
/// token the parser accepts (WebDAV's PROPFIND, for instance) is `other`, and the raw token
/// stays available from the parsed request head. `delete_` carries a trailing underscore
/// because `delete` is a C++ keyword.
enum class method : std::uint8_t {
  get,
  head,
  post,
  put,
  patch,
  delete_,
  options,
  connect,
  trace,
  other,
};

/// Number of methods with their own enumerator (every value except `other`).
inline constexpr std::size_t known_method_count = 9;

/// The canonical, upper-case token of `m` ("GET", "DELETE", ...); "OTHER" for `method::other`.
std::string_view to_string(method m) noexcept;

/// Maps a method token to its enumerator. Method tokens are case-sensitive (RFC 9110
/// section 9.1), so "get" is `method::other`.
method method_from_string(std::string_view token) noexcept;

/// A set of known methods, as needed for an `Allow` header.
///
/// `method::other` is never a member: inserting it has no effect.
class method_set {
 public:
  constexpr method_set() noexcept = default;

  /// Adds `m` to the set.
  constexpr void insert(method m) noexcept {
    if (m != method::other) {
      bits_ = static_cast<std::uint16_t>(bits_ | bit(m));
    }
  }

  /// True if `m` is in the set.
  constexpr bool contains(method m) const noexcept { return m != method::other && (bits_ & bit(m)) != 0; }

  /// True if the set holds no method.
  constexpr bool empty() const noexcept { return bits_ == 0; }

  /// The raw bit mask: bit `i` stands for `static_cast<method>(i)`.
  constexpr std::uint16_t bits() const noexcept { return bits_; }

  /// The set as an `Allow` field value, in enumerator order: "GET, HEAD, POST".
  /// Empty when the set is empty.
  std::string to_string() const;

  friend constexpr bool operator==(method_set, method_set) noexcept = default;

 private:
  static constexpr std::uint16_t bit(method m) noexcept {
    return static_cast<std::uint16_t>(1u << static_cast<unsigned>(m));
  }

  std::uint16_t bits_ = 0;
};

}  // namespace dusty::http
