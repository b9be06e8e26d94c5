#pragma once
// HTML escaping for text placed in an HTML document, in element content or in a quoted
// attribute value: & < > " ' become character references, so the text cannot close a
// tag or an attribute, whatever it holds.
#include <string>
#include <string_view>

namespace dusty::http {

/// Appends `text` to `out`, escaped.
void append_html_escaped(std::string& out, std::string_view text);

/// `text`, escaped.
inline std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_html_escaped(out, text);
  return out;
}

}  // namespace dusty::http
