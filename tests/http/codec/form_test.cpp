#include <dusty/http/codec/form.hpp>

#include <gtest/gtest.h>

#include <string>

namespace http = dusty::http;

TEST(form_, parses_fields_in_order_with_repeats) {
  http::form_fields f;
  ASSERT_TRUE(f.parse("a=1&b=x+y&a=2&c=%C3%A9&d"));
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f.fields()[0].key, "a");
  EXPECT_EQ(f.fields()[2].value, "2");
  EXPECT_EQ(f.get("a"), "1");
  EXPECT_EQ(f.get("b"), "x y");
  EXPECT_EQ(f.get("c"), "\xC3\xA9");
  EXPECT_EQ(f.get("d"), "");
  EXPECT_FALSE(f.get("e"));
  EXPECT_TRUE(f.contains("d"));
}

TEST(form_, decodes_like_the_query_string) {
  http::form_fields f;
  ASSERT_TRUE(f.parse("k=%zz&%41=%2B&&=v&"));
  EXPECT_EQ(f.get("k"), "%zz");  // not an escape: kept
  EXPECT_EQ(f.get("A"), "+");
  EXPECT_EQ(f.get(""), "v");
  EXPECT_EQ(f.size(), 3u);  // empty pairs skipped
}

TEST(form_, empty_body_is_an_empty_form) {
  http::form_fields f;
  ASSERT_TRUE(f.parse(""));
  EXPECT_TRUE(f.empty());
}

TEST(form_, tolerates_trailing_newline) {
  http::form_fields f;
  ASSERT_TRUE(f.parse("a=1\r\n"));
  EXPECT_EQ(f.get("a"), "1\r\n");
}

TEST(form_, rejects_control_bytes) {
  http::form_fields f;
  auto r = f.parse(std::string("a=\x00", 3));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), http::errc::invalid_form);
  EXPECT_EQ(http::status_for(r.error()), http::status::bad_request);
  EXPECT_TRUE(f.empty());
  EXPECT_FALSE(f.parse("a=\x7f"));
}

TEST(form_, limits_field_count_and_size) {
  http::form_fields f;
  std::string body;
  for (int i = 0; i < 11; ++i) body += "k" + std::to_string(i) + "=v&";
  auto r = f.parse(body, {.max_fields = 10});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), http::errc::too_many_parts);
  EXPECT_TRUE(f.empty());
  EXPECT_TRUE(f.parse(body, {.max_fields = 11}));
  EXPECT_EQ(f.size(), 11u);
  r = f.parse("abcdef", {.max_size = 5});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), http::errc::body_too_large);
}

TEST(form_, recognises_the_content_type) {
  EXPECT_TRUE(http::is_form_urlencoded("application/x-www-form-urlencoded"));
  EXPECT_TRUE(http::is_form_urlencoded("Application/X-WWW-Form-Urlencoded ; charset=UTF-8"));
  EXPECT_FALSE(http::is_form_urlencoded("multipart/form-data; boundary=x"));
  EXPECT_FALSE(http::is_form_urlencoded(""));
}
