#pragma once
// safe_path: what a request may name inside a served directory. The part of the URL a
// route matched ("css/site.css", percent-encoded as sent) becomes a path relative to the
// root, or a refusal. This is the first of two walls: the second is open_beneath, which
// lets the kernel refuse any escape (a symlink, a race) when the file is opened.
//
//   relative_path("css/%73ite.css") -> "css/site.css"
//   relative_path("a/../../etc")    -> refused (400): ".." is never followed
//   relative_path(".git/config")    -> refused (404) unless hidden files are allowed
//
// Percent-decoding happens exactly once, before any check, so "%2e%2e" is "..", "%2f" a
// separator and "%252e" the literal file name "%2e". Empty and "." segments collapse
// ("a//./b" is "a/b").
#include <cstdint>
#include <string>
#include <string_view>

namespace dusty::http::files {

struct path_check {
  std::string path;     ///< Relative, without leading '/'; empty for the root itself.
  unsigned status = 0;  ///< 0 when accepted; else 400 (malformed) or 404 (hidden).
  std::string_view why; ///< For a refusal: a short reason, for logs and error bodies.
  bool directory = false;  ///< The request ended in '/' (it asks for a directory).
};

/// Checks and decodes `raw`. Refused: a NUL, a backslash (a separator elsewhere), a ".."
/// segment, bytes that are not valid UTF-8 (overlong encodings of '.' and '/' included),
/// and, unless `allow_hidden`, a segment that starts with '.'.
path_check relative_path(std::string_view raw, bool allow_hidden);

}  // namespace dusty::http::files
