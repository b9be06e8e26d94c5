#pragma once
// directory_listing: an HTML index of a directory, for static_files' optional listing.
// Names are HTML-escaped in the text and percent-encoded in the links, so a file called
// `<script>` or `a"b` is shown as itself and can never inject markup.
#include <dusty/core/result.hpp>

#include <string>
#include <string_view>

namespace dusty::http::files {

/// The listing of the directory open as `dir_fd` (not consumed), titled with
/// `url_path` (the request path, as sent). Entries sorted by name, directories with a
/// trailing '/'; names starting with '.' are left out unless `show_hidden`. Errors: the
/// errno of reading the directory.
result<std::string> directory_listing(int dir_fd, std::string_view url_path, bool show_hidden);

}  // namespace dusty::http::files
