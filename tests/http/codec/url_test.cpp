#include <dusty/http/codec/url.hpp>

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace dusty::http {
namespace {

url must_parse(std::string_view s) {
  auto u = url::parse(s);
  EXPECT_TRUE(u) << s << ": " << u.error().message();
  return u ? *u : url{};
}

TEST(Url, SplitsTheParts) {
  auto u = must_parse("HTTP://user:pw@Example.COM:8080/a/b?x=1&y#frag");
  EXPECT_EQ(u.scheme, "http");
  EXPECT_EQ(u.userinfo, "user:pw");
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.target, "/a/b?x=1&y");
  EXPECT_EQ(u.path(), "/a/b");
  EXPECT_EQ(u.query(), "x=1&y");
  EXPECT_EQ(u.authority(), "example.com:8080");
  EXPECT_EQ(u.to_string(), "http://example.com:8080/a/b?x=1&y");
  EXPECT_FALSE(u.is_default_port());
}

TEST(Url, DefaultsPortAndPath) {
  auto u = must_parse("http://example.com");
  EXPECT_EQ(u.port, 80);
  EXPECT_EQ(u.target, "/");
  EXPECT_TRUE(u.is_default_port());
  EXPECT_EQ(u.authority(), "example.com");
  EXPECT_EQ(must_parse("https://example.com").port, 443);
  EXPECT_EQ(must_parse("http://example.com:/x").port, 80);
  EXPECT_EQ(must_parse("http://example.com?q=1").target, "/?q=1");
  EXPECT_EQ(must_parse("http://example.com:80/").to_string(), "http://example.com/");
}

TEST(Url, Ipv6Literals) {
  auto u = must_parse("http://[::1]:8080/x");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.authority(), "[::1]:8080");
  EXPECT_EQ(u.to_string(), "http://[::1]:8080/x");
  EXPECT_EQ(must_parse("http://[FE80::A]/").host, "fe80::a");
  EXPECT_EQ(must_parse("http://127.0.0.1:9/").host, "127.0.0.1");
}

TEST(Url, EncodesBytesOutsideTheAlphabet) {
  EXPECT_EQ(must_parse("http://h/a{b}?q=|\xc3\xa9").target, "/a%7Bb%7D?q=%7C%C3%A9");
}

TEST(Url, RejectsWhatCannotBeSent) {
  const std::pair<const char*, errc> cases[] = {
      {"", errc::invalid_url},
      {"example.com/x", errc::invalid_url},
      {"/just/a/path", errc::invalid_url},
      {"ftp://x", errc::unsupported_scheme},
      {"mailto:a@b", errc::unsupported_scheme},
      {"http:/x", errc::invalid_url},
      {"http:x", errc::invalid_url},
      {"http://", errc::invalid_url},
      {"http:///x", errc::invalid_url},
      {"http://:80/", errc::invalid_url},
      {"http://h:65536/", errc::invalid_url},
      {"http://h:0/", errc::invalid_url},
      {"http://h:8x/", errc::invalid_url},
      {"http://h:-1/", errc::invalid_url},
      {"http://h:+80/", errc::invalid_url},
      {"http://h/a b", errc::invalid_url},
      {"http://h/a\tb", errc::invalid_url},
      {"http://h/a\r\nX: y", errc::invalid_url},
      {"http://h\x7f/", errc::invalid_url},
      {"http://h o/", errc::invalid_url},
      {"http://h/<x>#a b", errc::invalid_url},
      {"http://[::1/", errc::invalid_url},
      {"http://[::1]x/", errc::invalid_url},
      {"http://[127.0.0.1]/", errc::invalid_url},
      {"http://a\"b/", errc::invalid_url},
  };
  for (auto& [text, e] : cases) {
    auto u = url::parse(text);
    ASSERT_FALSE(u) << "accepted: " << text;
    EXPECT_EQ(u.error(), make_error_code(e)) << text;
  }
}

// RFC 3986 section 5.4: base "http://a/b/c/d;p?q". Fragments are never kept, so the
// expected strings below are the RFC's without them; "http://g" is "http://g/".
TEST(Url, ResolvesTheRfc3986Examples) {
  auto base = must_parse("http://a/b/c/d;p?q");
  const std::pair<const char*, const char*> cases[] = {
      // 5.4.1 normal examples
      {"g", "http://a/b/c/g"},
      {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},
      {"//g", "http://g/"},
      {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q"},
      {"g#s", "http://a/b/c/g"},
      {"g?y#s", "http://a/b/c/g?y"},
      {";x", "http://a/b/c/;x"},
      {"g;x", "http://a/b/c/g;x"},
      {"g;x?y#s", "http://a/b/c/g;x?y"},
      {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"},
      {"./", "http://a/b/c/"},
      {"..", "http://a/b/"},
      {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},
      {"../..", "http://a/"},
      {"../../", "http://a/"},
      {"../../g", "http://a/g"},
      // 5.4.2 abnormal examples
      {"../../../g", "http://a/g"},
      {"../../../../g", "http://a/g"},
      {"/./g", "http://a/g"},
      {"/../g", "http://a/g"},
      {"g.", "http://a/b/c/g."},
      {".g", "http://a/b/c/.g"},
      {"g..", "http://a/b/c/g.."},
      {"..g", "http://a/b/c/..g"},
      {"./../g", "http://a/b/g"},
      {"./g/.", "http://a/b/c/g/"},
      {"g/./h", "http://a/b/c/g/h"},
      {"g/../h", "http://a/b/c/h"},
      {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
      {"g;x=1/../y", "http://a/b/c/y"},
      {"g?y/./x", "http://a/b/c/g?y/./x"},
      {"g?y/../x", "http://a/b/c/g?y/../x"},
      {"g#s/./x", "http://a/b/c/g"},
      {"g#s/../x", "http://a/b/c/g"},
      {"http:g", nullptr},  // strict parsers take it as a URL without authority: invalid here
      // absolute references stand alone
      {"https://other:8443/p?x", "https://other:8443/p?x"},
      {"HTTP://A/b/../c", "http://a/c"},
  };
  for (auto& [ref, expected] : cases) {
    auto r = base.resolve(ref);
    if (expected == nullptr) {
      EXPECT_FALSE(r) << ref;
      continue;
    }
    ASSERT_TRUE(r) << ref << ": " << r.error().message();
    EXPECT_EQ(r->to_string(), expected) << ref;
  }
  auto g = base.resolve("g:h");
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error(), make_error_code(errc::unsupported_scheme));
}

TEST(Url, ResolveKeepsPortAndUserinfo) {
  auto base = must_parse("http://u:p@h:8080/dir/page?x");
  auto r = base.resolve("../other?y=2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->to_string(), "http://h:8080/other?y=2");
  EXPECT_EQ(r->userinfo, "u:p");
  auto cross = base.resolve("//elsewhere/z");
  ASSERT_TRUE(cross);
  EXPECT_EQ(cross->userinfo, "");
  EXPECT_EQ(cross->port, 80);
  EXPECT_FALSE(base.resolve("/a b"));
  auto v6 = must_parse("http://[::1]:9000/a/b").resolve("c");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->to_string(), "http://[::1]:9000/a/c");
}

}  // namespace
}  // namespace dusty::http
