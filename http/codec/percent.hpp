#pragma once
// Percent-encoding (RFC 3986 section 2.1) in both directions, for paths, queries, forms
// and userinfo.
//
// Decoding follows the WHATWG URL standard's percent-decode: `%XX` with two hex digits
// (either case) becomes the byte 0xXX; a `%` not followed by two hex digits is kept as is,
// never an error. In query components `+` also becomes a space. The decoded bytes are not
// validated as UTF-8, and `%00` yields a NUL byte: code that builds file paths from decoded
// values must check them.
//
// Nothing here suspends; all of it may run on any shard.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace dusty::http {

/// Whether `+` decodes to a space: yes in query strings and form bodies, no in paths.
enum class plus_is_space : bool { no = false, yes = true };

/// True if decoding `in` would change it (it holds a `%XX` escape, or `+` under `plus_is_space::yes`).
bool needs_decoding(std::string_view in, plus_is_space plus = plus_is_space::no) noexcept;

/// Decodes `in` into `out`, which must hold at least `in.size()` bytes (decoding never
/// grows the text); `out` may alias `in` to decode in place. Returns the decoded size.
std::size_t percent_decode(std::string_view in, std::span<char> out,
                           plus_is_space plus = plus_is_space::no) noexcept;

/// Decodes `in` into a new string. For path segments and router params the default
/// (`+` stays `+`) is right; use `plus_is_space::yes` for query components.
std::string percent_decode(std::string_view in, plus_is_space plus = plus_is_space::no);

/// Appends `in` to `out` with every byte but the RFC 3986 unreserved ones (ALPHA, DIGIT,
/// `-._~`) written as `%XX` (upper-case hex): safe in any component.
void percent_encode(std::string& out, std::string_view in);

}  // namespace dusty::http
