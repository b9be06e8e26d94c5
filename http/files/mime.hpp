#pragma once
// mime: the Content-Type of a file from its extension. A built-in table covers what web
// servers commonly serve (nginx's mime.types and the IANA registry agree on these);
// text types carry "; charset=utf-8". Unknown extensions are application/octet-stream,
// which browsers download rather than guess (with X-Content-Type-Options: nosniff).
#include <string>
#include <string_view>
#include <unordered_map>

namespace dusty::http::files {

/// Extension (lower case, without the dot) -> Content-Type. Entries replace or extend
/// the built-in table.
using mime_overrides = std::unordered_map<std::string, std::string>;

/// The Content-Type for `file_name` (only its last extension counts, compared without
/// regard to case), looked up in `overrides` first.
std::string_view mime_type(std::string_view file_name, const mime_overrides& overrides = {});

}  // namespace dusty::http::files
