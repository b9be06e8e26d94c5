// URL parsing and reference resolution. Input: a base URL, '\n', a reference.
//
// Properties: a parsed URL printed and parsed again is the same URL (userinfo aside, which
// to_string() leaves out); so is every URL resolve() returns; resolving against a URL
// never yields a scheme other than http or https.
#include <dusty/http/codec/url.hpp>

#include "fuzz.hpp"

using dusty::http::url;

namespace {

void check_round_trip(url u) {
  auto again = url::parse(u.to_string());
  DUSTY_FUZZ_CHECK(again.has_value());
  u.userinfo.clear();
  DUSTY_FUZZ_CHECK(*again == u);
  DUSTY_FUZZ_CHECK(u.scheme == "http" || u.scheme == "https");
  DUSTY_FUZZ_CHECK(u.target.starts_with('/'));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto [base_text, reference] = dusty::fuzz::split_line(dusty::fuzz::text(data, size));
  auto base = url::parse(base_text);
  if (!base) return 0;
  check_round_trip(*base);
  (void)base->authority();
  (void)base->path();
  (void)base->query();
  if (auto resolved = base->resolve(reference)) check_round_trip(*resolved);
  return 0;
}
