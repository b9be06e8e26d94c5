#include <dusty/http/files/mime.hpp>

#include <dusty/http/detail/ascii.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace dusty::http::files {
namespace {

using entry = std::pair<std::string_view, std::string_view>;

// Sorted by extension: looked up by binary search.
constexpr auto table = std::to_array<entry>({
    {"7z", "application/x-7z-compressed"},
    {"aac", "audio/aac"},
    {"apng", "image/apng"},
    {"avif", "image/avif"},
    {"bin", "application/octet-stream"},
    {"bmp", "image/bmp"},
    {"css", "text/css; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"ico", "image/x-icon"},
    {"ics", "text/calendar; charset=utf-8"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"jsonld", "application/ld+json"},
    {"m4a", "audio/mp4"},
    {"map", "application/json"},
    {"md", "text/markdown; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpeg", "video/mpeg"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"rss", "application/rss+xml"},
    {"svg", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"wav", "audio/wav"},
    {"weba", "audio/webm"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xhtml", "application/xhtml+xml"},
    {"xml", "application/xml"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"zip", "application/zip"},
});

static_assert(std::is_sorted(table.begin(), table.end(), [](const entry& a, const entry& b) { return a.first < b.first; }));

}  // namespace

std::string_view mime_type(std::string_view file_name, const mime_overrides& overrides) {
  constexpr std::string_view fallback = "application/octet-stream";
  auto slash = file_name.rfind('/');
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  auto dot = file_name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == file_name.size()) return fallback;
  std::string_view ext_raw = file_name.substr(dot + 1);
  if (ext_raw.size() > 16) return fallback;
  char buf[16];
  std::transform(ext_raw.begin(), ext_raw.end(), buf, http::detail::ascii_lower);
  std::string_view ext(buf, ext_raw.size());
  if (!overrides.empty()) {
    if (auto it = overrides.find(std::string(ext)); it != overrides.end()) return it->second;
  }
  auto it = std::lower_bound(table.begin(), table.end(), ext, [](const entry& e, std::string_view k) { return e.first < k; });
  return it != table.end() && it->first == ext ? it->second : fallback;
}

}  // namespace dusty::http::files
