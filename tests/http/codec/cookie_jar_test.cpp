#include <dusty/http/codec/cookie_jar.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace dusty::http {
namespace {

using namespace std::chrono_literals;
using clock_type = cookie_jar::clock;

// A fixed "now" so that expiry is tested without the wall clock.
const clock_type::time_point t0 = clock_type::time_point{} + 1'700'000'000s;

url u(std::string_view s) { return url::parse(s).value(); }

TEST(cookie_jar, host_only_and_domain) {
  cookie_jar jar;
  jar.store(u("http://www.example.com/"), "host=1", t0);
  jar.store(u("http://www.example.com/"), "dom=2; Domain=example.com", t0);
  jar.store(u("http://www.example.com/"), "dot=3; Domain=.EXAMPLE.com", t0);
  jar.store(u("http://www.example.com/"), "self=4; Domain=www.example.com", t0);
  EXPECT_EQ(jar.size(), 4u);

  struct row {
    const char* url;
    const char* want;
  };
  const row rows[] = {
      {"http://www.example.com/", "host=1; dom=2; dot=3; self=4"},
      {"http://WWW.Example.COM/x", "host=1; dom=2; dot=3; self=4"},
      {"http://example.com/", "dom=2; dot=3"},
      {"http://a.www.example.com/", "dom=2; dot=3; self=4"},  // host-only does not reach subdomains
      {"http://sub.example.com/", "dom=2; dot=3"},
      {"http://badexample.com/", ""},                         // suffix without a dot boundary
      {"http://example.com.evil/", ""},
      {"http://other.org/", ""},
      {"http://www.example.com:8080/", "host=1; dom=2; dot=3; self=4"},  // ports do not matter
  };
  for (const auto& r : rows) {
    EXPECT_EQ(jar.cookie_header(u(r.url), t0), r.want) << r.url;
  }
}

TEST(cookie_jar, rejected_domains) {
  cookie_jar jar;
  jar.store(u("http://www.example.com/"), "a=1; Domain=other.com", t0);
  jar.store(u("http://www.example.com/"), "b=1; Domain=sub.www.example.com", t0);
  jar.store(u("http://www.example.com/"), "c=1; Domain=ample.com", t0);
  jar.store(u("http://example.com/"), "d=1; Domain=www.example.com", t0);
  // IP addresses never domain-match a suffix, only themselves.
  jar.store(u("http://10.0.0.1/"), "e=1; Domain=0.0.1", t0);
  EXPECT_EQ(jar.size(), 0u);
  jar.store(u("http://10.0.0.1/"), "f=1; Domain=10.0.0.1", t0);
  jar.store(u("http://10.0.0.1/"), "g=1", t0);
  EXPECT_EQ(jar.cookie_header(u("http://10.0.0.1/"), t0), "f=1; g=1");
  EXPECT_EQ(jar.cookie_header(u("http://10.0.0.2/"), t0), "");
  jar.store(u("http://[::1]:8080/"), "v6=1", t0);
  EXPECT_EQ(jar.cookie_header(u("http://[::1]/"), t0), "v6=1");
}

TEST(cookie_jar, unparsable_values_are_ignored) {
  cookie_jar jar;
  jar.store(u("http://h/"), "novalue", t0);
  jar.store(u("http://h/"), "=x", t0);
  jar.store(u("http://h/"), "", t0);
  EXPECT_EQ(jar.size(), 0u);
}

TEST(cookie_jar, default_path_and_path_match) {
  cookie_jar jar;
  jar.store(u("http://h/"), "root=1", t0);                  // default path "/"
  jar.store(u("http://h/docs/page.html"), "docs=1", t0);    // default path "/docs"
  jar.store(u("http://h/a/b/c?x=/y/z"), "ab=1", t0);        // "/a/b": the query is not the path
  jar.store(u("http://h/top"), "top=1", t0);                // one slash: "/"
  jar.store(u("http://h/x"), "exp=1; Path=/exp/", t0);
  jar.store(u("http://h/x"), "rel=1; Path=relative", t0);   // not '/': default path "/"
  struct row {
    const char* url;
    const char* want;
  };
  const row rows[] = {
      {"http://h/", "root=1; top=1; rel=1"},
      {"http://h", "root=1; top=1; rel=1"},
      {"http://h/docs", "docs=1; root=1; top=1; rel=1"},
      {"http://h/docs/", "docs=1; root=1; top=1; rel=1"},
      {"http://h/docs/more/deep", "docs=1; root=1; top=1; rel=1"},
      {"http://h/docsx", "root=1; top=1; rel=1"},  // "/docs" does not match "/docsx"
      {"http://h/a/b/c", "ab=1; root=1; top=1; rel=1"},
      {"http://h/a/bc", "root=1; top=1; rel=1"},
      {"http://h/exp", "root=1; top=1; rel=1"},    // "/exp/" needs the slash
      {"http://h/exp/", "exp=1; root=1; top=1; rel=1"},
      {"http://h/exp/x", "exp=1; root=1; top=1; rel=1"},
      {"http://h/DOCS", "root=1; top=1; rel=1"},   // paths are case-sensitive
  };
  for (const auto& r : rows) {
    EXPECT_EQ(jar.cookie_header(u(r.url), t0), r.want) << r.url;
  }
}

TEST(cookie_jar, ordering_longer_paths_then_older) {
  cookie_jar jar;
  jar.store(u("http://h/"), "late=1; Path=/", t0 + 5s);
  jar.store(u("http://h/"), "early=1; Path=/", t0);
  jar.store(u("http://h/"), "deep=1; Path=/a/b", t0 + 9s);
  jar.store(u("http://h/"), "mid=1; Path=/a", t0 + 1s);
  jar.store(u("http://h/"), "same1=1; Path=/", t0 + 7s);
  jar.store(u("http://h/"), "same2=1; Path=/", t0 + 7s);
  EXPECT_EQ(jar.cookie_header(u("http://h/a/b/c"), t0 + 10s), "deep=1; mid=1; early=1; late=1; same1=1; same2=1");
}

TEST(cookie_jar, secure_only_over_https) {
  cookie_jar jar;
  jar.store(u("http://h/"), "s1=1; Secure", t0);  // Secure set over http: rejected
  EXPECT_EQ(jar.size(), 0u);
  jar.store(u("https://h/"), "s2=1; Secure", t0);
  jar.store(u("https://h/"), "plain=1", t0);
  EXPECT_EQ(jar.cookie_header(u("https://h/"), t0), "s2=1; plain=1");
  EXPECT_EQ(jar.cookie_header(u("http://h/"), t0), "plain=1");
}

TEST(cookie_jar, expiry) {
  cookie_jar jar;
  const url h = u("http://h/");
  jar.store(h, "session=1", t0);
  jar.store(h, "ma=1; Max-Age=10", t0);
  jar.store(h, "ex=1; Expires=Thu, 01 Jan 2099 00:00:00 GMT", t0);
  jar.store(h, "both=1; Max-Age=5; Expires=Thu, 01 Jan 2099 00:00:00 GMT", t0);  // Max-Age wins
  jar.store(h, "both2=1; Expires=Thu, 01 Jan 1990 00:00:00 GMT; Max-Age=100", t0);
  jar.store(h, "past=1; Expires=Thu, 01 Jan 1990 00:00:00 GMT", t0);  // expired: not stored
  jar.store(h, "zero=1; Max-Age=0", t0);
  jar.store(h, "neg=1; Max-Age=-1", t0);
  jar.store(h, "huge=1; Max-Age=999999999999999999999", t0);
  EXPECT_EQ(jar.size(), 6u);
  EXPECT_EQ(jar.cookie_header(h, t0), "session=1; ma=1; ex=1; both=1; both2=1; huge=1");
  EXPECT_EQ(jar.cookie_header(h, t0 + 4s), "session=1; ma=1; ex=1; both=1; both2=1; huge=1");
  EXPECT_EQ(jar.cookie_header(h, t0 + 5s), "session=1; ma=1; ex=1; both2=1; huge=1");
  EXPECT_EQ(jar.size(), 5u);  // dropped when seen expired
  EXPECT_EQ(jar.cookie_header(h, t0 + 10s), "session=1; ex=1; both2=1; huge=1");
  EXPECT_EQ(jar.cookie_header(h, t0 + 100s), "session=1; ex=1; huge=1");
  jar.clear();
  EXPECT_EQ(jar.size(), 0u);
}

TEST(cookie_jar, replacement_and_deletion) {
  cookie_jar jar;
  const url h = u("http://www.h.com/a/");
  jar.store(h, "a=1", t0);
  jar.store(h, "b=1", t0 + 1s);
  jar.store(h, "a=2", t0 + 2s);  // same name, domain, path: replaced, keeps its age
  EXPECT_EQ(jar.size(), 2u);
  EXPECT_EQ(jar.cookie_header(h, t0 + 3s), "a=2; b=1");
  jar.store(h, "a=3; Path=/", t0 + 3s);  // another path: a second cookie
  jar.store(h, "a=4; Domain=h.com; Path=/a", t0 + 3s);  // another domain: a third
  EXPECT_EQ(jar.size(), 4u);
  EXPECT_EQ(jar.cookie_header(h, t0 + 4s), "a=2; b=1; a=4; a=3");
  jar.store(h, "a=x; Max-Age=0", t0 + 5s);  // deletes the host-only /a one
  EXPECT_EQ(jar.cookie_header(h, t0 + 5s), "b=1; a=4; a=3");
  jar.store(h, "a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/", t0 + 5s);
  EXPECT_EQ(jar.cookie_header(h, t0 + 5s), "b=1; a=4");
  jar.store(h, "zz=1; Max-Age=0", t0 + 5s);  // deleting what is not there: nothing
  EXPECT_EQ(jar.size(), 2u);
}

}  // namespace
}  // namespace dusty::http
