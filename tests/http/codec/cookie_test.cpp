#include <dusty/http/codec/cookie.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace dusty::http {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

std::vector<std::pair<std::string, std::string>> all_cookies(std::string_view header) {
  std::vector<std::pair<std::string, std::string>> v;
  for_each_cookie(header, [&](std::string_view n, std::string_view val) { v.emplace_back(n, val); });
  return v;
}

using pairs = std::vector<std::pair<std::string, std::string>>;

TEST(cookie, for_each_cookie_table) {
  EXPECT_EQ(all_cookies(""), pairs{});
  EXPECT_EQ(all_cookies("a=1"), (pairs{{"a", "1"}}));
  EXPECT_EQ(all_cookies("a=1; b=2"), (pairs{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(all_cookies("a=1;b=2"), (pairs{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(all_cookies("  a = 1 ;  b=2  ;"), (pairs{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(all_cookies("a=\"quoted value\"; b=\"\""), (pairs{{"a", "quoted value"}, {"b", ""}}));
  EXPECT_EQ(all_cookies("a=\"unterminated"), (pairs{{"a", "\"unterminated"}}));
  EXPECT_EQ(all_cookies("flag; a=1; ; =x"), (pairs{{"a", "1"}, {"", "x"}}));
  EXPECT_EQ(all_cookies("a=b=c"), (pairs{{"a", "b=c"}}));
  EXPECT_EQ(all_cookies("a=; a=2"), (pairs{{"a", ""}, {"a", "2"}}));
}

TEST(cookie, find_cookie) {
  EXPECT_EQ(find_cookie("a=1; sid=xyz; sid=other", "sid"), "xyz");
  EXPECT_EQ(find_cookie("a=1; SID=xyz", "sid"), std::nullopt);  // names are case-sensitive
  EXPECT_EQ(find_cookie("a=1", "b"), std::nullopt);
  EXPECT_EQ(find_cookie("", "a"), std::nullopt);
  EXPECT_EQ(find_cookie("a=", "a"), "");
  EXPECT_EQ(find_cookie("x=\"q\"", "x"), "q");
  EXPECT_EQ(find_cookie("ab=1; a=2", "a"), "2");
}

sys_seconds at(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

TEST(cookie, to_string) {
  EXPECT_EQ((set_cookie{.name = "a", .value = "1"}.to_string()), "a=1");
  EXPECT_EQ((set_cookie{.name = "a", .value = ""}.to_string()), "a=");
  EXPECT_EQ((set_cookie{.name = "sid",
                        .value = "abc",
                        .expires = at(1994, 11, 6, 8, 49, 37),
                        .max_age = 3600s,
                        .domain = "example.com",
                        .path = "/",
                        .secure = true,
                        .http_only = true,
                        .same_site = same_site::lax}
                 .to_string()),
            "sid=abc; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=3600; Domain=example.com; Path=/; Secure; "
            "HttpOnly; SameSite=Lax");
  EXPECT_EQ((set_cookie{.name = "a", .value = "\"q\"", .same_site = same_site::strict}.to_string()),
            "a=\"q\"; SameSite=Strict");
  EXPECT_EQ((set_cookie{.name = "a", .value = "x", .max_age = -5s, .same_site = same_site::none}.to_string()),
            "a=x; Max-Age=0; SameSite=None");
  EXPECT_EQ((set_cookie{.name = "a", .value = "x", .expires = at(2038, 1, 19, 3, 14, 8)}.to_string()),
            "a=x; Expires=Tue, 19 Jan 2038 03:14:08 GMT");
  EXPECT_EQ((set_cookie{.name = "a", .value = "x", .expires = sys_days{year{1970} / 1 / 1}}.to_string()),
            "a=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
  // Sub-second parts are dropped.
  EXPECT_EQ((set_cookie{.name = "a", .value = "x", .expires = at(2024, 2, 29, 23, 59, 59) + 999ms}.to_string()),
            "a=x; Expires=Thu, 29 Feb 2024 23:59:59 GMT");
}

TEST(cookie, to_string_rejects_bad_names_and_values) {
  for (std::string name : {"", "a b", "a;b", "a=b", "a\"", "a,b", "\x01", "a(b)", "a\x7f"}) {
    EXPECT_THROW((set_cookie{.name = name, .value = "v"}.to_string()), std::invalid_argument) << name;
  }
  for (std::string value : {"a b", "a;b", "a,b", "a\\b", "a\"b", "\"", "\x01", "\x7f", "caf\xc3\xa9", "\"a b\""}) {
    EXPECT_THROW((set_cookie{.name = "n", .value = value}.to_string()), std::invalid_argument) << value;
  }
  EXPECT_THROW((set_cookie{.name = "n", .value = "v", .path = "/a;b"}.to_string()), std::invalid_argument);
  EXPECT_THROW((set_cookie{.name = "n", .value = "v", .domain = "a\r\nb"}.to_string()), std::invalid_argument);
  EXPECT_NO_THROW((set_cookie{.name = "n!#$%&'*+-.^_`|~9", .value = "!#$%&'()*+-./:<=>?@[]^_`{|}~"}.to_string()));
}

TEST(cookie, parse_basic) {
  auto c = set_cookie::parse("sid=abc; Path=/docs; Domain=.Example.COM; Secure; HttpOnly; SameSite=strict; "
                             "Max-Age=60; Expires=Wed, 09 Jun 2021 10:18:14 GMT");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->name, "sid");
  EXPECT_EQ(c->value, "abc");
  EXPECT_EQ(c->path, "/docs");
  EXPECT_EQ(c->domain, "example.com");
  EXPECT_TRUE(c->secure);
  EXPECT_TRUE(c->http_only);
  EXPECT_EQ(c->same_site, same_site::strict);
  EXPECT_EQ(c->max_age, 60s);
  EXPECT_EQ(c->expires, at(2021, 6, 9, 10, 18, 14));
}

TEST(cookie, parse_lenient_table) {
  struct row {
    std::string_view in;
    bool ok;
    std::string_view name, value;
  };
  const row rows[] = {
      {"a=1", true, "a", "1"},
      {"  a  =  1  ", true, "a", "1"},
      {"a=", true, "a", ""},
      {"a=\"x y\"", true, "a", "\"x y\""},  // kept as received (5.2 does not unquote)
      {"a=b=c; Path=/", true, "a", "b=c"},
      {"a", false, "", ""},
      {"=1", false, "", ""},
      {"", false, "", ""},
      {"; a=1", false, "", ""},
      {"a=1;;;; ;", true, "a", "1"},
      {"a=1; Unknown=3; Foo", true, "a", "1"},
  };
  for (const auto& r : rows) {
    auto c = set_cookie::parse(r.in);
    ASSERT_EQ(c.has_value(), r.ok) << r.in;
    if (c) {
      EXPECT_EQ(c->name, r.name);
      EXPECT_EQ(c->value, r.value);
    } else {
      EXPECT_EQ(c.error(), errc::invalid_header);
    }
  }
}

TEST(cookie, parse_attributes) {
  auto p = [](std::string_view s) { return set_cookie::parse(s).value(); };
  EXPECT_EQ(p("a=1; path=/x; PATH=/y").path, "/y");  // the last one wins
  EXPECT_EQ(p("a=1; Path=relative").path, "");       // not starting with '/': default path
  EXPECT_EQ(p("a=1; Path=").path, "");
  EXPECT_EQ(p("a=1; Domain=").domain, "");
  EXPECT_EQ(p("a=1; domain=..x.com").domain, ".x.com");
  EXPECT_EQ(p("a=1; Max-Age=0").max_age, 0s);
  EXPECT_EQ(p("a=1; Max-Age=-10").max_age, -10s);
  EXPECT_EQ(p("a=1; Max-Age=1x").max_age, std::nullopt);
  EXPECT_EQ(p("a=1; Max-Age=+5").max_age, std::nullopt);
  EXPECT_EQ(p("a=1; Max-Age=").max_age, std::nullopt);
  EXPECT_EQ(p("a=1; Max-Age=-").max_age, std::nullopt);
  EXPECT_EQ(p("a=1; Max-Age=5; Max-Age=bad").max_age, 5s);  // bad ones are ignored
  EXPECT_GT(p("a=1; Max-Age=99999999999999999999999").max_age.value(), 1000000000s);
  EXPECT_TRUE(p("a=1; secure=whatever").secure);
  EXPECT_TRUE(p("a=1;HTTPONLY").http_only);
  EXPECT_EQ(p("a=1; SameSite=Lax").same_site, same_site::lax);
  EXPECT_EQ(p("a=1; SameSite=NONE").same_site, same_site::none);
  EXPECT_EQ(p("a=1; SameSite=bogus").same_site, same_site::unset);
  EXPECT_EQ(p("a=1; Expires=garbage").expires, std::nullopt);
}

TEST(cookie, expires_date_formats) {
  const auto want = at(1994, 11, 6, 8, 49, 37);
  for (std::string_view d : {
           "Sun, 06 Nov 1994 08:49:37 GMT",   // IMF-fixdate
           "Sunday, 06-Nov-94 08:49:37 GMT",  // RFC 850
           "Sun Nov  6 08:49:37 1994",        // asctime
           "Sun, 06-Nov-1994 08:49:37 GMT",   // Netscape
           "6 Nov 1994 08:49:37",
           "06 november 1994 8:49:37",
           "Nov 6 8:49:37 94 GMT",
           "1994 Nov 6 08:49:37",
           "xx 6 NOV 1994 08:49:37 UTC+5",    // zones are ignored
       }) {
    auto c = set_cookie::parse("a=1; Expires=" + std::string(d));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->expires, want) << d;
  }
  struct row {
    std::string_view in;
    std::optional<sys_seconds> want;
  };
  const row rows[] = {
      {"Thu, 01 Jan 1970 00:00:00 GMT", sys_seconds{}},
      {"Mon, 01 Jan 69 00:00:00 GMT", at(2069, 1, 1, 0, 0, 0)},
      {"Mon, 01 Jan 70 00:00:00 GMT", at(1970, 1, 1, 0, 0, 0)},
      {"Fri, 31 Dec 2200 23:59:59 GMT", at(2200, 12, 31, 23, 59, 59)},
      {"29 Feb 2024 00:00:00", at(2024, 2, 29, 0, 0, 0)},
      {"29 Feb 2023 00:00:00", std::nullopt},   // not a date
      {"31 Apr 2023 00:00:00", std::nullopt},
      {"32 Jan 2023 00:00:00", std::nullopt},
      {"0 Jan 2023 00:00:00", std::nullopt},
      {"1 Jan 1600 00:00:00", std::nullopt},    // before 1601
      {"1 Jan 2023 24:00:00", std::nullopt},
      {"1 Jan 2023 23:60:00", std::nullopt},
      {"1 Jan 2023 23:00:60", std::nullopt},
      {"1 Jan 2023", std::nullopt},             // no time
      {"1 2023 10:00:00", std::nullopt},        // no month
      {"Jan 2023 10:00:00", std::nullopt},      // no day
      {"1 Foo 2023 10:00:00", std::nullopt},
      {"", std::nullopt},
      {"123:00:00 1 Jan 2023", std::nullopt},   // too many hour digits: no time
  };
  for (const auto& r : rows) {
    auto c = set_cookie::parse("a=1; Expires=" + std::string(r.in));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->expires, r.want) << r.in;
  }  // Beyond what system_clock holds (about 1677 to 2262): clamped, not overflowed.
  EXPECT_EQ(set_cookie::parse("a=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT")->expires, system_clock::time_point::max());
  EXPECT_EQ(set_cookie::parse("a=1; Expires=Mon, 01 Jan 1601 00:00:00 GMT")->expires, system_clock::time_point::min());
}

TEST(cookie, build_then_parse) {
  set_cookie in{.name = "k",
                .value = "v-1",
                .expires = at(2030, 5, 17, 1, 2, 3),
                .max_age = 10s,
                .domain = "a.example",
                .path = "/p",
                .secure = true,
                .http_only = false,
                .same_site = same_site::none};
  auto out = set_cookie::parse(in.to_string());
  ASSERT_TRUE(out);
  EXPECT_EQ(out->name, in.name);
  EXPECT_EQ(out->value, in.value);
  EXPECT_EQ(out->expires, in.expires);
  EXPECT_EQ(out->max_age, in.max_age);
  EXPECT_EQ(out->domain, in.domain);
  EXPECT_EQ(out->path, in.path);
  EXPECT_EQ(out->secure, in.secure);
  EXPECT_EQ(out->http_only, in.http_only);
  EXPECT_EQ(out->same_site, in.same_site);
}

}  // namespace
}  // namespace dusty::http
