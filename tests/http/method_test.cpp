#include <dusty/http/method.hpp>

#include <gtest/gtest.h>

namespace dusty::http {
namespace {

TEST(method, round_trips_through_its_token) {
  for (unsigned i = 0; i < known_method_count; ++i) {
    auto m = static_cast<method>(i);
    EXPECT_EQ(method_from_string(to_string(m)), m) << to_string(m);
  }
  EXPECT_EQ(to_string(method::delete_), "DELETE");
  EXPECT_EQ(to_string(method::other), "OTHER");
}

TEST(method, tokens_are_case_sensitive) {
  EXPECT_EQ(method_from_string("GET"), method::get);
  EXPECT_EQ(method_from_string("get"), method::other);
  EXPECT_EQ(method_from_string("PROPFIND"), method::other);
  EXPECT_EQ(method_from_string(""), method::other);
}

TEST(method_set, insert_contains_and_format) {
  method_set s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.to_string(), "");
  s.insert(method::post);
  s.insert(method::get);
  s.insert(method::post);
  s.insert(method::other);  // never a member
  EXPECT_FALSE(s.empty());
  EXPECT_TRUE(s.contains(method::get));
  EXPECT_TRUE(s.contains(method::post));
  EXPECT_FALSE(s.contains(method::head));
  EXPECT_FALSE(s.contains(method::other));
  EXPECT_EQ(s.to_string(), "GET, POST");
  EXPECT_EQ(s.bits(), 0b101);

  method_set all;
  for (unsigned i = 0; i <= known_method_count; ++i) {
    all.insert(static_cast<method>(i));
  }
  EXPECT_EQ(all.to_string(), "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, CONNECT, TRACE");
}

}  // namespace
}  // namespace dusty::http
