// Cookie (request) and Set-Cookie (response) header values.
//
// Properties: find_cookie finds the first pair for_each_cookie reports under that name; a
// parsed Set-Cookie that to_string() accepts parses back to the same cookie (Expires to
// the second, the precision of the HTTP date it is written as).
#include <dusty/http/codec/cookie.hpp>

#include <dusty/http/detail/ascii.hpp>

#include "fuzz.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

using namespace dusty::http;

namespace {

bool same(const set_cookie& a, const set_cookie& b) {
  using std::chrono::floor;
  using std::chrono::seconds;
  auto expires = [](const set_cookie& c) {
    return c.expires ? std::optional(floor<seconds>(*c.expires)) : std::nullopt;
  };
  auto max_age = [](const set_cookie& c) {  // "0 or less: delete now", printed as 0
    return c.max_age ? std::optional(std::max(*c.max_age, seconds{0})) : std::nullopt;
  };
  return a.name == b.name && a.value == b.value && expires(a) == expires(b) && max_age(a) == max_age(b) &&
         a.domain == b.domain && a.path == b.path && a.secure == b.secure && a.http_only == b.http_only &&
         a.same_site == b.same_site;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = dusty::fuzz::text(data, size);

  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  for_each_cookie(in, [&](std::string_view name, std::string_view value) { pairs.emplace_back(name, value); });
  for (const auto& [name, value] : pairs) {
    auto found = find_cookie(in, name);
    DUSTY_FUZZ_CHECK(found.has_value());
    for (const auto& [n, v] : pairs) {
      if (n == name) {
        DUSTY_FUZZ_CHECK(*found == v);
        break;
      }
    }
  }

  auto c = set_cookie::parse(in);
  if (!c) return 0;
  std::string text;
  try {
    text = c->to_string();
  } catch (const std::invalid_argument&) {
    return 0;  // documented: a name or value a Set-Cookie cannot carry
  }
  auto again = set_cookie::parse(text);
  DUSTY_FUZZ_CHECK(again.has_value());
  // Read again, the domain printed loses what parse() kept of a value like "..a" or ". a"
  // as RFC 6265 section 5.2.3 says (the first dot only): spaces, then another dot.
  auto domain = dusty::http::detail::trim_ows(c->domain);
  if (domain.starts_with('.')) domain.remove_prefix(1);
  c->domain = std::string(domain);
  DUSTY_FUZZ_CHECK(same(*c, *again));
  return 0;
}
