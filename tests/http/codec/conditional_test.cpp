#include <dusty/http/codec/conditional.hpp>

#include <dusty/http/testing.hpp>

#include <gtest/gtest.h>

#include <chrono>

namespace http = dusty::http;
namespace ht = dusty::http::testing;
using namespace std::chrono_literals;

TEST(conditional, parses_entity_tags) {
  auto t = http::parse_etag(" \"abc\" ");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->opaque, "abc");
  EXPECT_FALSE(t->weak);
  t = http::parse_etag("W/\"\"");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->weak);
  EXPECT_EQ(t->opaque, "");
  EXPECT_FALSE(http::parse_etag("abc"));
  EXPECT_FALSE(http::parse_etag("\"a\"b\""));
  EXPECT_FALSE(http::parse_etag("\""));
  EXPECT_FALSE(http::parse_etag("w/\"a\""));
  EXPECT_EQ(http::make_etag("x"), "\"x\"");
  EXPECT_EQ(http::make_etag("x", true), "W/\"x\"");
}

TEST(conditional, weak_and_strong_comparison) {
  // RFC 9110 section 8.8.3.2's table.
  auto w1 = *http::parse_etag("W/\"1\""), w2 = *http::parse_etag("W/\"2\""), s1 = *http::parse_etag("\"1\"");
  EXPECT_FALSE(http::strong_match(w1, w1));
  EXPECT_TRUE(http::weak_match(w1, w1));
  EXPECT_FALSE(http::weak_match(w1, w2));
  EXPECT_FALSE(http::strong_match(w1, s1));
  EXPECT_TRUE(http::weak_match(w1, s1));
  EXPECT_TRUE(http::strong_match(s1, s1));
}

TEST(conditional, if_none_match_lists_and_star) {
  EXPECT_TRUE(http::if_none_match("\"a\"", "\"a\""));
  EXPECT_TRUE(http::if_none_match("W/\"a\"", "\"a\""));
  EXPECT_TRUE(http::if_none_match("\"x\", W/\"a\"", "W/\"a\""));
  EXPECT_TRUE(http::if_none_match(" * ", "\"a\""));
  // Found by tests/fuzz/range_conditional: a comma is an etagc, so it does not split a tag.
  EXPECT_TRUE(http::if_none_match("\"a,b\"", "\"a,b\""));
  EXPECT_TRUE(http::if_none_match("\"x\", W/\"a,b\" , \"y\"", "\"a,b\""));
  EXPECT_FALSE(http::if_none_match("\"a,b\"", "\"a\""));
  EXPECT_TRUE(http::if_match("junk, \"a,\"", "\"a,\""));
  EXPECT_TRUE(http::if_none_match("*", ""));
  EXPECT_FALSE(http::if_none_match("\"x\", \"y\"", "\"a\""));
  EXPECT_FALSE(http::if_none_match("garbage, \"y\"", "\"a\""));
  EXPECT_TRUE(http::if_none_match("garbage, \"a\"", "\"a\""));
  EXPECT_FALSE(http::if_none_match("", "\"a\""));
  EXPECT_FALSE(http::if_none_match("\"a\"", ""));
}

TEST(conditional, if_match_is_strong) {
  EXPECT_TRUE(http::if_match("\"a\"", "\"a\""));
  EXPECT_FALSE(http::if_match("W/\"a\"", "\"a\""));
  EXPECT_FALSE(http::if_match("\"a\"", "W/\"a\""));
  EXPECT_TRUE(http::if_match("*", "\"a\""));
  EXPECT_FALSE(http::if_match("*", ""));
  EXPECT_TRUE(http::if_match("\"b\", \"a\"", "\"a\""));
}

// Found by tests/fuzz/range_conditional: from_time_t overflowed (undefined behaviour)
// for a date past system_clock's range.
TEST(conditional, http_dates_past_the_clock_range_are_its_latest_second) {
  auto latest = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::time_point::max());
  EXPECT_EQ(http::parse_http_date("Sun, 06 Nov 3988 08:49:37 GMT"), latest);
  EXPECT_EQ(http::parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"), latest);
  EXPECT_EQ(http::parse_http_date(http::format_http_date(latest)), latest);
}

TEST(conditional, http_dates_in_three_forms) {
  auto expected = std::chrono::system_clock::from_time_t(784111777);  // 1994-11-06 08:49:37 UTC
  EXPECT_EQ(http::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), expected);
  EXPECT_EQ(http::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), expected);
  EXPECT_EQ(http::parse_http_date("Sun Nov  6 08:49:37 1994"), expected);
  EXPECT_EQ(http::format_http_date(expected), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_FALSE(http::parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
  EXPECT_FALSE(http::parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
  EXPECT_FALSE(http::parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));
  EXPECT_FALSE(http::parse_http_date(""));
  EXPECT_FALSE(http::parse_http_date("yesterday"));
  auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  EXPECT_EQ(http::parse_http_date(http::format_http_date(now)), now);
}

namespace {

http::handler serve(std::string etag, std::optional<std::chrono::system_clock::time_point> modified = {}) {
  return [etag, modified](http::request& req, http::response& res) {
    if (http::answer_conditional(req, res, {.etag = etag, .last_modified = modified})) return;
    res.header("ETag", etag);
    res.body = "content";
  };
}

}  // namespace

TEST(conditional, not_modified_and_precondition_failed) {
  auto h = serve("\"v1\"");
  auto r = ht::request_builder().header("If-None-Match", "\"v1\"").call(h);
  EXPECT_EQ(r.status(), 304);
  EXPECT_EQ(r.header("ETag"), "\"v1\"");
  EXPECT_EQ(r.body(), "");
  r = ht::request_builder().header("If-None-Match", "\"v0\"").call(h);
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.body(), "content");
  r = ht::request_builder().method(http::method::put).header("If-None-Match", "*").call(h);
  EXPECT_EQ(r.status(), 412);  // PUT with If-None-Match: * on an existing resource
  r = ht::request_builder().method(http::method::put).header("If-Match", "\"v0\"").call(h);
  EXPECT_EQ(r.status(), 412);
  r = ht::request_builder().method(http::method::put).header("If-Match", "\"v1\"").call(h);
  EXPECT_EQ(r.status(), 200);
  auto untagged = serve("");
  r = ht::request_builder().method(http::method::put).header("If-Match", "*").call(untagged);
  EXPECT_EQ(r.status(), 200);  // the resource exists, tag or no tag
  r = ht::request_builder().header("If-None-Match", "*").call(untagged);
  EXPECT_EQ(r.status(), 304);
  // If-Match is evaluated first: a failed one wins over a matching If-None-Match.
  r = ht::request_builder().header("If-Match", "\"v0\"").header("If-None-Match", "\"v1\"").call(h);
  EXPECT_EQ(r.status(), 412);
}

TEST(conditional, modification_dates) {
  auto modified = std::chrono::system_clock::from_time_t(784111777);
  auto h = serve("\"v1\"", modified);
  auto r = ht::request_builder().header("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT").call(h);
  EXPECT_EQ(r.status(), 304);
  EXPECT_EQ(r.header("Last-Modified"), "Sun, 06 Nov 1994 08:49:37 GMT");
  r = ht::request_builder().header("If-Modified-Since", "Sun, 06 Nov 1994 08:49:36 GMT").call(h);
  EXPECT_EQ(r.status(), 200);
  // If-None-Match present: If-Modified-Since is ignored.
  r = ht::request_builder()
          .header("If-None-Match", "\"v0\"")
          .header("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")
          .call(h);
  EXPECT_EQ(r.status(), 200);
  r = ht::request_builder().header("If-Modified-Since", "not a date").call(h);
  EXPECT_EQ(r.status(), 200);
  r = ht::request_builder().method(http::method::post).header("If-Unmodified-Since", "Sat, 05 Nov 1994 00:00:00 GMT").call(h);
  EXPECT_EQ(r.status(), 412);
  r = ht::request_builder().method(http::method::post).header("If-Unmodified-Since", "Mon, 07 Nov 1994 00:00:00 GMT").call(h);
  EXPECT_EQ(r.status(), 200);
}
