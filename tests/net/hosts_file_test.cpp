#include <dusty/net/detail/hosts_file.hpp>

#include <dusty/net/detail/resolv_conf.hpp>

#include "net/test_util.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace {

namespace net = dusty::net;
namespace detail = dusty::net::detail;
using namespace std::chrono_literals;

net::socket_address ip(const char* text) {
  auto a = net::socket_address::parse(text);
  EXPECT_TRUE(a) << text;
  return *a;
}

void write_file(const std::string& path, const std::string& text) {
  // Through a rename, as editors and package managers do; the inode changes too.
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
  }
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
}

TEST(HostsFile, Parses) {
  auto t = detail::parse_hosts(
      "# comment line\n"
      "127.0.0.1\tlocalhost\n"
      "::1 localhost ip6-localhost   # trailing comment\n"
      "192.0.2.10  Web.Example.  www  \r\n"
      "2001:db8::10 web.example\n"
      "192.0.2.11 web.example\n"
      "192.0.2.10 web.example\n"  // a repeated address is listed once
      "fe80::1%2 scoped\n"
      "not-an-address broken\n"
      "192.0.2.12\n"
      "192.0.2.13 bad..name good\n"
      "999.0.0.1 overflow\n"
      "   \n"
      "192.0.2.14 last-line-without-newline");
  ASSERT_TRUE(t.contains("web.example"));
  EXPECT_EQ(t["web.example"],
            (std::vector{ip("192.0.2.10:0"), ip("[2001:db8::10]:0"), ip("192.0.2.11:0")}));
  EXPECT_EQ(t["www"], std::vector{ip("192.0.2.10:0")});
  EXPECT_EQ(t["localhost"], (std::vector{ip("127.0.0.1:0"), ip("[::1]:0")}));
  EXPECT_EQ(t["ip6-localhost"], std::vector{ip("[::1]:0")});
  EXPECT_EQ(t["scoped"].size(), 1u);
  EXPECT_EQ(t["good"], std::vector{ip("192.0.2.13:0")});
  EXPECT_EQ(t["last-line-without-newline"], std::vector{ip("192.0.2.14:0")});
  EXPECT_FALSE(t.contains("broken"));
  EXPECT_FALSE(t.contains("bad..name"));
  EXPECT_FALSE(t.contains("overflow"));
  EXPECT_FALSE(t.contains("192.0.2.12"));
}

TEST(HostsFile, RereadsWhenChanged) {
  net::testing::temp_dir dir;
  auto path = dir.path("hosts");
  detail::hosts_file hosts(path);
  EXPECT_EQ(hosts.find("a.test", 0s), nullptr);  // missing file: empty

  write_file(path, "192.0.2.1 a.test\n");
  auto* a = hosts.find("a.test", 0s);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(*a, std::vector{ip("192.0.2.1:0")});

  write_file(path, "192.0.2.2 a.test b.test\n");
  // Within the recheck interval the old table stands.
  a = hosts.find("a.test", 1h);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(*a, std::vector{ip("192.0.2.1:0")});
  a = hosts.find("a.test", 0s);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(*a, std::vector{ip("192.0.2.2:0")});
  EXPECT_NE(hosts.find("b.test", 0s), nullptr);

  hosts.invalidate();
  std::remove(path.c_str());
  EXPECT_EQ(hosts.find("a.test", 1h), nullptr);
}

// An invalidated table is reread at once, however long the recheck interval and however
// long the machine has been up: "never checked" is not steady_clock's epoch (the boot),
// which a machine up for less than the interval would take for a recent check.
TEST(HostsFile, InvalidateRereadsWhateverTheUptime) {
  constexpr auto longer_than_any_uptime = std::chrono::hours(24 * 365 * 100);
  net::testing::temp_dir dir;
  auto path = dir.path("hosts");
  write_file(path, "192.0.2.1 a.test\n");
  detail::hosts_file hosts(path);
  ASSERT_NE(hosts.find("a.test", longer_than_any_uptime), nullptr);
  write_file(path, "192.0.2.22 b.test\n");  // another size: mtime alone may not tick
  hosts.invalidate();
  EXPECT_EQ(hosts.find("a.test", longer_than_any_uptime), nullptr);
  EXPECT_NE(hosts.find("b.test", longer_than_any_uptime), nullptr);
}

TEST(ResolvConf, Parses) {
  auto c = detail::parse_resolv_conf(
      "# generated\n"
      "domain example.com\n"
      "search example.com corp.example\n"
      "nameserver 192.0.2.53\n"
      "nameserver   2001:db8::53  # v6\n"
      "nameserver fe80::1%2\n"
      "nameserver bogus\n"
      "; semicolon comment\n"
      "nameserver\n"
      "options ndots:2 timeout:3 attempts:4 rotate\n"
      "options timeout:999\n");
  ASSERT_EQ(c.nameservers.size(), 3u);
  EXPECT_EQ(c.nameservers[0], ip("192.0.2.53:53"));
  EXPECT_EQ(c.nameservers[1], ip("[2001:db8::53]:53"));
  EXPECT_EQ(c.nameservers[2].family(), AF_INET6);
  EXPECT_EQ(c.nameservers[2].port(), 53);
  ASSERT_TRUE(c.timeout);
  EXPECT_EQ(*c.timeout, 30s);  // the later line wins, capped as glibc does
  ASSERT_TRUE(c.attempts);
  EXPECT_EQ(*c.attempts, 4u);

  auto empty = detail::parse_resolv_conf("");
  EXPECT_TRUE(empty.nameservers.empty());
  EXPECT_FALSE(empty.timeout);
  EXPECT_FALSE(empty.attempts);
}

TEST(ResolvConf, LoadsAndRereadsFile) {
  net::testing::temp_dir dir;
  auto path = dir.path("resolv.conf");
  detail::resolv_conf_file file(path);
  EXPECT_TRUE(file.get(0s).nameservers.empty());
  write_file(path, "nameserver 127.0.0.53\n");
  ASSERT_EQ(file.get(0s).nameservers.size(), 1u);
  EXPECT_EQ(file.get(0s).nameservers[0], ip("127.0.0.53:53"));
  write_file(path, "nameserver 127.0.0.54\nnameserver ::1\n");
  EXPECT_EQ(file.get(1h).nameservers.size(), 1u);
  EXPECT_EQ(file.get(0s).nameservers.size(), 2u);
}

}  // namespace
