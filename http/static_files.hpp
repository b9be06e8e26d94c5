#pragma once
// static_files: a handler that serves a directory tree, mounted on a suffix-glob route.
//
//   srv.get("/assets/*", http::static_files("/var/www/assets", {.cache_control = "public, max-age=3600"}));
//   srv.get("/*", http::static_files("public"));      // a whole site; HEAD is answered too
//
// What it answers (as nginx does, with the differences noted):
//   - 200 with Content-Type (files::mime_type), Content-Length, Last-Modified, a strong
//     ETag ("<mtime ns hex>-<size hex>"), Accept-Ranges, and Cache-Control when set;
//   - 304 / 412 for If-None-Match, If-Modified-Since, If-Match, If-Unmodified-Since
//     (http::answer_conditional); 206 / 416 for Range and If-Range (http::apply_range:
//     one range, or overlapping ones merged; gaps give the whole file);
//   - a precompressed sibling (`file.br`, then `file.gz`) when it exists and the client
//     accepts that coding, with Content-Encoding and Vary: Accept-Encoding (not for
//     ranges, which always address the identity bytes);
//   - for a directory: a 301 to the path with a trailing '/', then its index file, else
//     a listing when enabled, else 403;
//   - 400 for a malformed path ("..", NUL, backslash, invalid UTF-8), 404 for what does
//     not exist, hidden names (".git") and, 403 for symlinks out of the root (always),
//     symlinks at all (when not followed), unreadable files and anything that is not a
//     regular file (a FIFO or device never blocks the shard).
//
// Paths are checked twice: files::relative_path refuses what a URL may not name, and
// files::open_beneath has the kernel refuse any escape from the root (openat2
// RESOLVE_BENEATH; see open_beneath.hpp for the fallback). The root is the directory
// itself, so /var/www never reaches /var/www-private.
//
// Bodies: small files (≤ small_file) come from memory, bigger ones are a file_range the
// connection sends with sendfile (epoll) or splice (io_uring), without a copy. Each
// shard has its own files::file_cache (descriptors, metadata, small contents),
// revalidated after revalidate_after (default 1 s: a deploy shows within a second).
#include <dusty/http/files/mime.hpp>
#include <dusty/http/handler.hpp>

#include <chrono>
#include <cstddef>
#include <string>

namespace dusty::http {

struct static_files_options {
  /// Serve names starting with '.' (".env", ".git/"). Default: no (404).
  bool hidden_files = false;
  /// Follow symlinks that stay inside the root. Those leading out are always refused.
  bool follow_symlinks = true;
  /// The file served for a directory; empty for none.
  std::string index = "index.html";
  /// An HTML listing for a directory without index. Default: off (403).
  bool directory_listing = false;
  /// Serve `name.br` / `name.gz` in place of `name` to clients that accept them.
  bool precompressed = true;
  /// The Cache-Control value of every 200/206/304; empty for none.
  std::string cache_control;
  /// Extension -> Content-Type, over the built-in table.
  files::mime_overrides mime_types;
  /// How old a cached answer about a path may be before it is checked again.
  std::chrono::milliseconds revalidate_after{1000};
  /// Per shard: paths remembered (each open file holds a descriptor) ...
  std::size_t cache_entries = 1024;
  /// ... and bytes of small-file content kept in memory.
  std::size_t cache_bytes = 8 << 20;
  /// Files up to this size are served from memory; bigger ones from the page cache.
  std::size_t small_file = 16 * 1024;
};

/// A handler serving the directory `root`. Throws std::system_error when `root` cannot be
/// opened as a directory: a bad root is a start-up error, not a stream of 404s. The route
/// must end in a suffix glob ("/*"): what it matched is the path served.
handler static_files(const std::string& root, static_files_options options = {});

}  // namespace dusty::http
