#pragma once
// Reading the line-oriented system files the resolver uses (/etc/hosts, /etc/resolv.conf):
// one line at a time, comments cut off, fields split on blanks.
#include <string_view>
#include <vector>

namespace dusty::net::detail {

/// Takes the first line off `text` (up to and without its '\n'), drops everything from the
/// first of `comment_chars` on, and returns the line's fields: runs of characters other
/// than space, tab, CR, VT and FF. The views point into `text`'s buffer.
inline std::vector<std::string_view> take_line_fields(std::string_view& text, std::string_view comment_chars) {
  auto nl = text.find('\n');
  auto line = text.substr(0, nl);
  text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  if (auto c = line.find_first_of(comment_chars); c != std::string_view::npos) line = line.substr(0, c);
  auto blank = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f'; };
  std::vector<std::string_view> fields;
  for (std::size_t i = 0; i < line.size();) {
    while (i < line.size() && blank(line[i])) ++i;
    std::size_t start = i;
    while (i < line.size() && !blank(line[i])) ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

}  // namespace dusty::net::detail
