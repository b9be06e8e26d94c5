#include <dusty/net/address.hpp>

#include <dusty/net/error.hpp>

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/un.h>

#include <set>
#include <string>
#include <unordered_set>

namespace {

using dusty::net::errc;
using dusty::net::socket_address;

TEST(address, parses_ipv4) {
  auto a = socket_address::parse("127.0.0.1:8080");
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->family(), AF_INET);
  EXPECT_EQ(a->port(), 8080);
  EXPECT_EQ(a->size(), sizeof(sockaddr_in));
  EXPECT_EQ(a->to_string(), "127.0.0.1:8080");
  EXPECT_EQ(*a, socket_address::ipv4_loopback(8080));
  EXPECT_EQ(socket_address::parse("0.0.0.0:80")->to_string(), "0.0.0.0:80");
  EXPECT_EQ(*socket_address::parse("0.0.0.0:80"), socket_address::ipv4_any(80));
  EXPECT_EQ(socket_address::parse("255.255.255.255:65535")->port(), 65535);
}

TEST(address, parses_ipv6) {
  auto a = socket_address::parse("[::1]:0");
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->family(), AF_INET6);
  EXPECT_EQ(a->port(), 0);
  EXPECT_EQ(a->to_string(), "[::1]:0");
  EXPECT_EQ(*a, socket_address::ipv6_loopback());
  EXPECT_EQ(socket_address::parse("[::]:443")->to_string(), "[::]:443");
  EXPECT_EQ(socket_address::parse("[2001:DB8:0:0::1]:1")->to_string(), "[2001:db8::1]:1");
  EXPECT_EQ(socket_address::parse("[::ffff:10.0.0.1]:9")->to_string(), "[::ffff:10.0.0.1]:9");
  auto scoped = socket_address::parse("[fe80::1%3]:80");
  ASSERT_TRUE(scoped);
  EXPECT_EQ(reinterpret_cast<const sockaddr_in6*>(scoped->data())->sin6_scope_id, 3u);
  EXPECT_EQ(scoped->to_string(), "[fe80::1%3]:80");
}

TEST(address, parses_unix_paths_and_abstract_names) {
  auto path = socket_address::parse("unix:/tmp/app.sock");
  ASSERT_TRUE(path) << path.error().message();
  EXPECT_EQ(path->family(), AF_UNIX);
  EXPECT_TRUE(path->is_unix());
  EXPECT_EQ(path->port(), 0);
  EXPECT_EQ(path->unix_path(), "/tmp/app.sock");
  EXPECT_EQ(path->to_string(), "unix:/tmp/app.sock");
  EXPECT_EQ(path->size(), offsetof(sockaddr_un, sun_path) + sizeof("/tmp/app.sock"));

  auto abstract = socket_address::parse("unix:@dusty");
  ASSERT_TRUE(abstract);
  EXPECT_EQ(abstract->unix_path(), "@dusty");
  EXPECT_EQ(abstract->to_string(), "unix:@dusty");
  // Abstract names are exactly as long as given: no terminating NUL is counted.
  EXPECT_EQ(abstract->size(), offsetof(sockaddr_un, sun_path) + 1 + 5);
  EXPECT_EQ(abstract->data()->sa_data[0], '\0');
  EXPECT_NE(*abstract, *socket_address::parse("unix:@dust"));

  std::string longest(107, 'p');
  EXPECT_TRUE(socket_address::parse("unix:" + longest));
  EXPECT_TRUE(socket_address::parse("unix:@" + longest));
}

TEST(address, rejects_malformed_text_with_a_specific_error) {
  struct bad {
    const char* text;
    errc expected;
  };
  const bad cases[] = {
      {"", errc::invalid_address},
      {"localhost:80", errc::invalid_address},  // host names are the resolver's job
      {"example.com:443", errc::invalid_address},
      {"1.2.3:80", errc::invalid_address},
      {"256.0.0.1:80", errc::invalid_address},
      {"01.2.3.4:80", errc::invalid_address},
      {":80", errc::invalid_address},
      {"::1:80", errc::invalid_address},  // IPv6 needs brackets
      {"[::1:80", errc::invalid_address},
      {"[::1]80", errc::invalid_address},
      {"[1.2.3.4]:80", errc::invalid_address},
      {"[fe80::1%eth0]:80", errc::invalid_address},  // interface names are not resolved here
      {"[]:80", errc::invalid_address},
      {"127.0.0.1", errc::missing_port},
      {"[::1]", errc::missing_port},
      {"127.0.0.1:", errc::invalid_port},
      {"127.0.0.1:65536", errc::invalid_port},
      {"127.0.0.1:-1", errc::invalid_port},
      {"127.0.0.1:+80", errc::invalid_port},
      {"127.0.0.1:80x", errc::invalid_port},
      {"127.0.0.1: 80", errc::invalid_port},
      {"[::1]:99999", errc::invalid_port},
      {"unix:", errc::invalid_address},
      {"unix:@", errc::invalid_address},
  };
  for (const auto& c : cases) {
    auto a = socket_address::parse(c.text);
    ASSERT_FALSE(a) << "'" << c.text << "' parsed as " << a->to_string();
    EXPECT_EQ(a.error(), c.expected) << "'" << c.text << "': " << a.error().message();
  }
  std::string too_long(108, 'p');
  EXPECT_EQ(socket_address::parse("unix:" + too_long).error(), errc::path_too_long);
  EXPECT_EQ(socket_address::parse("unix:@" + too_long).error(), errc::path_too_long);
  EXPECT_EQ(socket_address::unix_socket(std::string("a\0b", 3)).error(), errc::invalid_address);
}

TEST(address, error_messages_say_what_is_wrong) {
  EXPECT_EQ(socket_address::parse("localhost:80").error().message(),
            "not a numeric IPv4 address, a bracketed IPv6 address or a unix: path (host names need a resolver)");
  EXPECT_EQ(socket_address::parse("127.0.0.1").error().message(), "no :port after the address");
  EXPECT_STREQ(socket_address::parse("127.0.0.1").error().category().name(), "dusty.net");
}

TEST(address, with_port_changes_only_ip_addresses) {
  auto a = socket_address::ipv4_loopback().with_port(1234);
  EXPECT_EQ(a.port(), 1234);
  EXPECT_EQ(a.to_string(), "127.0.0.1:1234");
  EXPECT_EQ(socket_address::ipv6_any().with_port(7).to_string(), "[::]:7");
  auto u = *socket_address::parse("unix:/x");
  EXPECT_EQ(u.with_port(9), u);
}

TEST(address, empty_address_is_unspecified) {
  socket_address a;
  EXPECT_EQ(a.family(), AF_UNSPEC);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.port(), 0);
  EXPECT_EQ(a.to_string(), "unspecified");
  EXPECT_EQ(a, socket_address());
}

TEST(address, round_trips_through_to_string) {
  for (const char* text : {"10.1.2.3:4", "[fe80::1%2]:8080", "[::]:0", "unix:/run/x.sock", "unix:@abc"}) {
    auto a = socket_address::parse(text);
    ASSERT_TRUE(a) << text;
    EXPECT_EQ(a->to_string(), text);
    EXPECT_EQ(*socket_address::parse(a->to_string()), *a);
  }
}

TEST(address, compares_and_hashes_consistently) {
  auto a = *socket_address::parse("127.0.0.1:1");
  auto b = *socket_address::parse("127.0.0.1:2");
  auto c = *socket_address::parse("[::1]:1");
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_TRUE((a < b) != (b < a));
  EXPECT_EQ(a <=> socket_address::ipv4_loopback(1), std::strong_ordering::equal);
  std::set<socket_address> sorted{a, b, c, a};
  EXPECT_EQ(sorted.size(), 3u);
  std::unordered_set<socket_address> hashed{a, b, c, socket_address::ipv4_loopback(1)};
  EXPECT_EQ(hashed.size(), 3u);
  EXPECT_EQ(std::hash<socket_address>{}(a), std::hash<socket_address>{}(socket_address::ipv4_loopback(1)));
}

TEST(address, copies_what_the_kernel_filled_in) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(99);
  in.sin_addr.s_addr = htonl(0x0a000001);
  socket_address a(reinterpret_cast<sockaddr*>(&in), sizeof in);
  EXPECT_EQ(a.to_string(), "10.0.0.1:99");
  // An unnamed Unix socket (a client's end) is just the family.
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  socket_address u(reinterpret_cast<sockaddr*>(&un), sizeof(sa_family_t));
  EXPECT_TRUE(u.is_unix());
  EXPECT_EQ(u.to_string(), "unix:");
}

}  // namespace
