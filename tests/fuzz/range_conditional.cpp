// Range, If-Match / If-None-Match, entity tags and HTTP dates. Input: a header value.
//
// Properties: a range plan stays inside the representation; a parsed date printed and
// parsed again is the same instant; a parsed entity tag printed again parses the same;
// "*" aside, a tag list that matches an ETag names it.
#include <dusty/http/codec/conditional.hpp>
#include <dusty/http/codec/range.hpp>

#include "fuzz.hpp"

#include <string>

using namespace dusty::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = dusty::fuzz::text(data, size);

  if (auto specs = parse_range(in)) DUSTY_FUZZ_CHECK(!specs->empty() && specs->size() <= max_range_specs);
  for (std::uint64_t length : {0ull, 1ull, 100ull, 1ull << 40, ~0ull}) {
    auto plan = plan_range(in, length);
    DUSTY_FUZZ_CHECK(plan.status == 200 || plan.status == 206 || plan.status == 416);
    DUSTY_FUZZ_CHECK(plan.total == length);
    if (plan.status == 206) DUSTY_FUZZ_CHECK(plan.first <= plan.last && plan.last < length);
    DUSTY_FUZZ_CHECK(plan.length() <= length);
  }

  if (auto t = parse_http_date(in)) {
    auto again = parse_http_date(format_http_date(*t));
    DUSTY_FUZZ_CHECK(again == t);
  }

  if (auto tag = parse_etag(in)) {
    auto text = make_etag(tag->opaque, tag->weak);
    auto again = parse_etag(text);
    DUSTY_FUZZ_CHECK(again && again->opaque == tag->opaque && again->weak == tag->weak);
    DUSTY_FUZZ_CHECK(weak_match(*tag, *again));
    DUSTY_FUZZ_CHECK(strong_match(*tag, *again) == !tag->weak);
    DUSTY_FUZZ_CHECK(if_none_match(in, text));
  }
  for (std::string_view current : {"\"a\"", "W/\"a\"", "\"\""}) {
    (void)if_none_match(in, current);
    (void)if_match(in, current);
  }
  return 0;
}
