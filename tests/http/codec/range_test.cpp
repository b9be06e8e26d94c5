#include <dusty/http/codec/range.hpp>

#include <dusty/http/testing.hpp>

#include <gtest/gtest.h>

#include <string>

namespace http = dusty::http;
namespace ht = dusty::http::testing;

TEST(range_, parses_specs) {
  auto s = http::parse_range("bytes=0-99, 200-,-5");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[0].first, 0u);
  EXPECT_EQ((*s)[0].last, 99u);
  EXPECT_EQ((*s)[1].first, 200u);
  EXPECT_FALSE((*s)[1].last);
  EXPECT_FALSE((*s)[2].first);
  EXPECT_EQ((*s)[2].last, 5u);
  EXPECT_TRUE(http::parse_range("Bytes = 1-2,"));
  for (auto bad : {"", "bytes", "bytes=", "items=0-1", "bytes=5-2", "bytes=a-b", "bytes=1", "bytes=--1", "bytes=-",
                   "bytes=1-2-3", "bytes=+1-2", "bytes=, ,"})
    EXPECT_FALSE(http::parse_range(bad)) << bad;
  std::string many = "bytes=0-0";
  for (int i = 1; i <= 16; ++i) many += "," + std::to_string(i * 2) + "-" + std::to_string(i * 2);
  EXPECT_FALSE(http::parse_range(many));  // 17 specs
  EXPECT_TRUE(http::parse_range(many, 17));
  auto huge = http::parse_range("bytes=99999999999999999999999-");
  ASSERT_TRUE(huge);
  EXPECT_EQ((*huge)[0].first, UINT64_MAX);
}

TEST(range_, plans_answers) {
  auto p = http::plan_range("bytes=0-9", 100);
  EXPECT_EQ(p.status, 206u);
  EXPECT_EQ(p.first, 0u);
  EXPECT_EQ(p.last, 9u);
  EXPECT_EQ(p.length(), 10u);
  p = http::plan_range("bytes=90-200", 100);  // shortened to the end
  EXPECT_EQ(p.status, 206u);
  EXPECT_EQ(p.last, 99u);
  p = http::plan_range("bytes=-10", 100);
  EXPECT_EQ(p.status, 206u);
  EXPECT_EQ(p.first, 90u);
  p = http::plan_range("bytes=-1000", 100);  // the whole thing
  EXPECT_EQ(p.status, 200u);
  EXPECT_EQ(p.length(), 100u);
  p = http::plan_range("bytes=0-", 100);
  EXPECT_EQ(p.status, 200u);
  p = http::plan_range("bytes=100-", 100);
  EXPECT_EQ(p.status, 416u);
  EXPECT_EQ(p.length(), 0u);
  p = http::plan_range("bytes=-0", 100);
  EXPECT_EQ(p.status, 416u);
  p = http::plan_range("bytes=0-0", 0);
  EXPECT_EQ(p.status, 416u);
  p = http::plan_range("bytes=-5", 0);  // the one satisfiable form on an empty representation
  EXPECT_EQ(p.status, 200u);
  EXPECT_EQ(p.length(), 0u);
  p = http::plan_range("bytes=-0", 0);
  EXPECT_EQ(p.status, 416u);
  p = http::plan_range("bytes=5-2", 100);  // malformed: ignored
  EXPECT_EQ(p.status, 200u);
  p = http::plan_range(std::nullopt, 100);
  EXPECT_EQ(p.status, 200u);
  EXPECT_EQ(p.last, 99u);
}

TEST(range_, merges_touching_ranges_and_ignores_gaps) {
  auto p = http::plan_range("bytes=10-19,0-9,15-25", 100);
  EXPECT_EQ(p.status, 206u);
  EXPECT_EQ(p.first, 0u);
  EXPECT_EQ(p.last, 25u);
  p = http::plan_range("bytes=0-9,20-29", 100);
  EXPECT_EQ(p.status, 200u);
  p = http::plan_range("bytes=0-9,200-300", 100);  // the unsatisfiable one drops out
  EXPECT_EQ(p.status, 206u);
  EXPECT_EQ(p.last, 9u);
}

namespace {

const std::string data = "abcdefghijklmnopqrstuvwxyz";

void serve(http::request& req, http::response& res) {
  auto plan = http::apply_range(req, res, data.size(), {.etag = "\"v1\""});
  if (plan.status == 416) return;
  res.body = std::string_view(data).substr(plan.first, plan.length());
}

}  // namespace

TEST(range_, applies_to_a_response) {
  auto r = ht::request_builder().header("Range", "bytes=2-4").call(serve);
  EXPECT_EQ(r.status(), 206);
  EXPECT_EQ(r.body(), "cde");
  EXPECT_EQ(r.header("Content-Range"), "bytes 2-4/26");
  EXPECT_EQ(r.header("Accept-Ranges"), "bytes");
  r = ht::request_builder().header("Range", "bytes=26-").call(serve);
  EXPECT_EQ(r.status(), 416);
  EXPECT_EQ(r.header("Content-Range"), "bytes */26");
  EXPECT_EQ(r.body(), "");
  r = ht::request_builder().call(serve);
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.body(), data);
  EXPECT_FALSE(r.header("Content-Range"));
  r = ht::request_builder().method(http::method::post).header("Range", "bytes=2-4").call(serve);
  EXPECT_EQ(r.status(), 200);  // Range is for GET
}

TEST(range_, if_range) {
  auto r = ht::request_builder().header("Range", "bytes=0-0").header("If-Range", "\"v1\"").call(serve);
  EXPECT_EQ(r.status(), 206);
  r = ht::request_builder().header("Range", "bytes=0-0").header("If-Range", "\"v2\"").call(serve);
  EXPECT_EQ(r.status(), 200);
  r = ht::request_builder().header("Range", "bytes=0-0").header("If-Range", "W/\"v1\"").call(serve);
  EXPECT_EQ(r.status(), 200);  // weak tags never match in If-Range
  r = ht::request_builder().header("Range", "bytes=0-0").header("If-Range", "Sun, 06 Nov 1994 08:49:37 GMT").call(serve);
  EXPECT_EQ(r.status(), 200);  // no Last-Modified known
}
