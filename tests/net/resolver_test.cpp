#include <dusty/net/resolver.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/core/submit_to.hpp>
#include <dusty/net/detail/dns_message.hpp>
#include <dusty/net/error.hpp>

#include "net/test_util.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace dusty::net::testing;
namespace net = dusty::net;
namespace dns = dusty::net::detail::dns;
using bytes_t = std::vector<std::byte>;

// One resource record of a scripted answer. `data` is an address for A/AAAA and the
// target name for CNAME.
struct rr {
  std::string name;
  std::uint16_t type;
  std::uint32_t ttl;
  std::string data;
};

void put16(bytes_t& b, unsigned v) {
  b.push_back(std::byte(v >> 8 & 0xFF));
  b.push_back(std::byte(v & 0xFF));
}

void put_name(bytes_t& b, std::string_view n) {
  while (!n.empty()) {
    auto dot = n.find('.');
    auto label = n.substr(0, dot);
    b.push_back(std::byte(label.size()));
    for (char c : label) b.push_back(std::byte(c));
    n.remove_prefix(dot == std::string_view::npos ? n.size() : dot + 1);
  }
  b.push_back(std::byte{0});
}

struct reply_options {
  unsigned rcode = 0;
  bool truncated = false;
  std::optional<std::uint16_t> id;            // default: the query's
  std::optional<std::string> question_name;   // default: the query's
};

// A reply to `q` carrying `answers`, with no compression.
bytes_t reply(const dns::message& q, const std::vector<rr>& answers, reply_options o = {}) {
  bytes_t b;
  put16(b, o.id.value_or(q.id));
  put16(b, 0x8180 | (o.truncated ? 0x0200 : 0) | (o.rcode & 0xF));
  put16(b, 1);
  put16(b, o.truncated ? 0 : static_cast<unsigned>(answers.size()));
  put16(b, 0);
  put16(b, 0);
  put_name(b, o.question_name.value_or(q.question_name));
  put16(b, q.question_type);
  put16(b, q.question_class);
  if (o.truncated) return b;
  for (auto& r : answers) {
    put_name(b, r.name);
    put16(b, r.type);
    put16(b, dns::class_in);
    put16(b, r.ttl >> 16);
    put16(b, r.ttl & 0xFFFF);
    bytes_t data;
    if (r.type == dns::type_a) {
      data.resize(4);
      EXPECT_EQ(::inet_pton(AF_INET, r.data.c_str(), data.data()), 1);
    } else if (r.type == dns::type_aaaa) {
      data.resize(16);
      EXPECT_EQ(::inet_pton(AF_INET6, r.data.c_str(), data.data()), 1);
    } else {
      put_name(data, r.data);
    }
    put16(b, static_cast<unsigned>(data.size()));
    b.insert(b.end(), data.begin(), data.end());
  }
  return b;
}

// A scripted DNS server on loopback, UDP and TCP on one port, in a thread of its own
// (blocking sockets, poll with a short timeout so it stops promptly).
class fake_dns {
 public:
  // The replies to send to one query; `tcp` says which transport it came on.
  using script = std::function<std::vector<bytes_t>(const dns::message& q, bool tcp)>;

  explicit fake_dns(script s, net::socket_address where = net::socket_address::ipv4_loopback())
      : script_(std::move(s)) {
    // TCP first, then UDP on the port the listener got (a port the kernel picks for UDP
    // may be some TCP connection's local end); if a UDP socket holds it already, retry.
    for (int i = 0; i < 50 && udp_ < 0; ++i) {
      tcp_ = ::socket(where.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (tcp_ < 0 || ::bind(tcp_, where.data(), where.size()) != 0 || ::listen(tcp_, 8) != 0) {
        ADD_FAILURE() << "tcp listener: " << std::strerror(errno);
        break;
      }
      sockaddr_storage ss;
      socklen_t len = sizeof ss;
      ::getsockname(tcp_, reinterpret_cast<sockaddr*>(&ss), &len);
      address_ = net::socket_address(reinterpret_cast<sockaddr*>(&ss), len);
      udp_ = ::socket(where.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (::bind(udp_, address_.data(), address_.size()) != 0) {
        ::close(std::exchange(udp_, -1));
        ::close(std::exchange(tcp_, -1));
      }
    }
    EXPECT_GE(udp_, 0);
    thread_ = std::thread([this] { loop(); });
  }
  ~fake_dns() {
    stop_ = true;
    thread_.join();
    ::close(udp_);
    ::close(tcp_);
  }

  net::socket_address address() const { return address_; }
  /// Delays every reply (to keep queries in flight).
  void delay(std::chrono::milliseconds d) { delay_ = d; }
  std::size_t udp_queries() const { return udp_count_; }
  std::size_t tcp_queries() const { return tcp_count_; }
  std::size_t queries_for(const std::string& name, std::uint16_t type) {
    std::lock_guard lock(mutex_);
    return per_question_[{name, type}];
  }

 private:
  void count(const dns::message& m) {
    std::lock_guard lock(mutex_);
    ++per_question_[{m.question_name, m.question_type}];
  }

  void loop() {
    while (!stop_) {
      pollfd fds[2] = {{udp_, POLLIN, 0}, {tcp_, POLLIN, 0}};
      if (::poll(fds, 2, 20) <= 0) continue;
      if (fds[0].revents & POLLIN) serve_udp();
      if (fds[1].revents & POLLIN) serve_tcp();
    }
  }

  void serve_udp() {
    std::byte buf[1500];
    sockaddr_storage from;
    socklen_t len = sizeof from;
    auto n = ::recvfrom(udp_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) return;
    auto q = dns::parse({buf, static_cast<std::size_t>(n)});
    if (!q) return;
    count(*q);
    auto replies = script_(*q, false);
    ++udp_count_;
    if (delay_.load() > 0ms) std::this_thread::sleep_for(delay_.load());
    for (auto& r : replies)
      ::sendto(udp_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
  }

  void serve_tcp() {
    int c = ::accept4(tcp_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    timeval tv{2, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::byte lenbuf[2];
    if (::recv(c, lenbuf, 2, MSG_WAITALL) == 2) {
      std::size_t n = std::to_integer<std::size_t>(lenbuf[0]) << 8 | std::to_integer<std::size_t>(lenbuf[1]);
      bytes_t query(n);
      if (::recv(c, query.data(), n, MSG_WAITALL) == static_cast<ssize_t>(n)) {
        if (auto q = dns::parse(query)) {
          ++tcp_count_;
          auto replies = script_(*q, true);
          if (!replies.empty()) {
            bytes_t out;
            put16(out, static_cast<unsigned>(replies[0].size()));
            out.insert(out.end(), replies[0].begin(), replies[0].end());
            (void)!::send(c, out.data(), out.size(), MSG_NOSIGNAL);
          }
        }
      }
    }
    ::close(c);
  }

  script script_;
  int udp_ = -1;
  int tcp_ = -1;
  net::socket_address address_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::chrono::milliseconds> delay_{0ms};
  std::atomic<std::size_t> udp_count_{0};
  std::atomic<std::size_t> tcp_count_{0};
  std::mutex mutex_;
  std::map<std::pair<std::string, std::uint16_t>, std::size_t> per_question_;
};

// Answers from a little zone: the records of every type asked for plus every CNAME
// (the resolver walks the chain); NXDOMAIN for names the zone does not have.
fake_dns::script zone(std::vector<rr> records) {
  return [records = std::move(records)](const dns::message& q, bool) {
    bool known = false;
    std::vector<rr> answers;
    for (auto& r : records) {
      if (r.name == q.question_name) known = true;
      if (r.type == q.question_type || r.type == dns::type_cname) answers.push_back(r);
    }
    if (!known) return std::vector<bytes_t>{reply(q, {}, {.rcode = 3})};
    return std::vector<bytes_t>{reply(q, answers)};
  };
}

fake_dns::script silent() {
  return [](const dns::message&, bool) { return std::vector<bytes_t>{}; };
}

const std::vector<rr> example_zone = {
    {"a.test", dns::type_a, 300, "192.0.2.1"},
    {"a.test", dns::type_aaaa, 300, "2001:db8::1"},
    {"b.test", dns::type_a, 300, "192.0.2.2"},
    {"c.test", dns::type_a, 300, "192.0.2.3"},
    {"alias.test", dns::type_cname, 300, "c1.test"},
    {"c1.test", dns::type_cname, 60, "target.test"},
    {"target.test", dns::type_a, 300, "192.0.2.7"},
    {"v4only.test", dns::type_a, 300, "192.0.2.4"},
};

// A resolver config that reads no system file and asks only `servers`.
net::resolver_config config_for(std::vector<net::socket_address> servers) {
  net::resolver_config c;
  c.nameservers = std::move(servers);
  c.hosts_file = "/nonexistent/hosts";
  c.resolv_conf = "/nonexistent/resolv.conf";
  c.attempt_timeout = 2s;
  c.attempts = 2;
  return c;
}

net::socket_address ip(const char* text) {
  auto a = net::socket_address::parse(text);
  EXPECT_TRUE(a) << text;
  return *a;
}

using addrs = std::vector<net::socket_address>;

// Runs `fn` as the main fiber of a one-shard runtime under a watchdog.
template <class F>
void run(F fn) {
  dusty::runtime rt(config());
  rt.run([&] { dusty::with_timeout(60s, fn); });
}

TEST(Resolver, LiteralsAndLocalhostNeedNoServer) {
  fake_dns server(zone(example_zone));
  run([&] {
    net::resolver r(config_for({server.address()}));
    using net::address_family;
    EXPECT_EQ(r.resolve("127.0.0.1", 80).value(), addrs{ip("127.0.0.1:80")});
    EXPECT_EQ(r.resolve("::1", 80).value(), addrs{ip("[::1]:80")});
    EXPECT_EQ(r.resolve("[::1]", 81).value(), addrs{ip("[::1]:81")});
    EXPECT_EQ(r.resolve("2001:db8::5", 1).value(), addrs{ip("[2001:db8::5]:1")});
    EXPECT_EQ(r.resolve("[::1]", 80, soon(), address_family::ipv4).error(), net::errc::host_not_found);
    EXPECT_EQ(r.resolve("127.0.0.1", 80, soon(), address_family::ipv6).error(), net::errc::host_not_found);
    EXPECT_EQ(r.resolve("127.0.0.1", 80, soon(), address_family::ipv4).value(), addrs{ip("127.0.0.1:80")});

    addrs both{ip("[::1]:8080"), ip("127.0.0.1:8080")};
    EXPECT_EQ(r.resolve("localhost", 8080).value(), both);
    EXPECT_EQ(r.resolve("LocalHost.", 8080).value(), both);
    EXPECT_EQ(r.resolve("api.dev.localhost", 8080).value(), both);
    EXPECT_EQ(r.resolve("localhost", 8080, soon(), address_family::ipv4).value(), addrs{ip("127.0.0.1:8080")});
    EXPECT_EQ(r.resolve("localhost", 8080, soon(), address_family::ipv6).value(), addrs{ip("[::1]:8080")});

    for (std::string bad : {std::string(), std::string("a..b"), std::string("bad name"), std::string("[1.2.3.4]"),
                            std::string("[::1"), std::string("[nonsense]"), std::string(254, 'a'),
                            std::string(64, 'a') + ".test", std::string("a/b"), std::string(".")})
      EXPECT_EQ(r.resolve(bad, 80).error(), net::errc::invalid_host_name) << bad;
  });
  EXPECT_EQ(server.udp_queries(), 0u);
}

TEST(Resolver, AnswersAAndAaaaInFamilyOrder) {
  fake_dns server(zone(example_zone));
  run([&] {
    net::resolver r(config_for({server.address()}));
    EXPECT_EQ(r.resolve("a.test", 443, soon()).value(), (addrs{ip("[2001:db8::1]:443"), ip("192.0.2.1:443")}));
    EXPECT_EQ(server.udp_queries(), 2u);  // A and AAAA, sent together
    // From the cache now, in every family, with the port of each call.
    EXPECT_EQ(r.resolve("A.Test.", 80, soon()).value(), (addrs{ip("[2001:db8::1]:80"), ip("192.0.2.1:80")}));
    EXPECT_EQ(r.resolve("a.test", 80, soon(), net::address_family::ipv4).value(), addrs{ip("192.0.2.1:80")});
    EXPECT_EQ(r.resolve("a.test", 80, soon(), net::address_family::ipv6).value(), addrs{ip("[2001:db8::1]:80")});
    EXPECT_EQ(server.udp_queries(), 2u);

    // Only one family asked: only that query goes out.
    EXPECT_EQ(r.resolve("b.test", 1, soon(), net::address_family::ipv4).value(), addrs{ip("192.0.2.2:1")});
    EXPECT_EQ(server.queries_for("b.test", dns::type_a), 1u);
    EXPECT_EQ(server.queries_for("b.test", dns::type_aaaa), 0u);
    // A name with IPv4 only: `any` gives the IPv4 address, ipv6 finds nothing.
    EXPECT_EQ(r.resolve("v4only.test", 1, soon()).value(), addrs{ip("192.0.2.4:1")});
    EXPECT_EQ(r.resolve("v4only.test", 1, soon(), net::address_family::ipv6).error(), net::errc::host_not_found);
    EXPECT_EQ(server.queries_for("v4only.test", dns::type_aaaa), 1u);  // no data is cached too
  });
}

TEST(Resolver, FollowsCnameChain) {
  fake_dns server(zone(example_zone));
  run([&] {
    net::resolver r(config_for({server.address()}));
    EXPECT_EQ(r.resolve("alias.test", 80, soon()).value(), addrs{ip("192.0.2.7:80")});
  });
}

TEST(Resolver, NxdomainIsHostNotFoundAndCached) {
  fake_dns server(zone(example_zone));
  run([&] {
    auto cfg = config_for({server.address()});
    net::resolver r(cfg);
    EXPECT_EQ(r.resolve("missing.test", 80, soon()).error(), net::errc::host_not_found);
    EXPECT_EQ(r.resolve("missing.test", 80, soon()).error(), net::errc::host_not_found);
    EXPECT_EQ(server.queries_for("missing.test", dns::type_a), 1u);
    EXPECT_EQ(server.queries_for("missing.test", dns::type_aaaa), 1u);
    r.clear_cache();
    EXPECT_EQ(r.resolve("missing.test", 80, soon()).error(), net::errc::host_not_found);
    EXPECT_EQ(server.queries_for("missing.test", dns::type_a), 2u);

    // negative_ttl 0: not kept at all.
    cfg.negative_ttl = 0s;
    net::resolver r0(cfg);
    EXPECT_EQ(r0.resolve("missing.test", 80, soon()).error(), net::errc::host_not_found);
    EXPECT_EQ(r0.resolve("missing.test", 80, soon()).error(), net::errc::host_not_found);
    EXPECT_EQ(server.queries_for("missing.test", dns::type_a), 4u);
  });
}

TEST(Resolver, ServfailMovesToTheNextServer) {
  for (unsigned rcode : {2u, 5u}) {  // SERVFAIL, REFUSED
    fake_dns failing(
        [rcode](const dns::message& q, bool) { return std::vector<bytes_t>{reply(q, {}, {.rcode = rcode})}; });
    fake_dns good(zone(example_zone));
    run([&] {
      net::resolver r(config_for({failing.address(), good.address()}));
      EXPECT_EQ(r.resolve("a.test", 80, soon()).value(), (addrs{ip("[2001:db8::1]:80"), ip("192.0.2.1:80")}));
    });
    EXPECT_EQ(failing.udp_queries(), 2u) << rcode;
    EXPECT_EQ(good.udp_queries(), 2u) << rcode;
  }
}

TEST(Resolver, SilentServerIsDnsFailureAfterAttempts) {
  fake_dns quiet(silent());
  run([&] {
    auto cfg = config_for({quiet.address()});
    cfg.attempt_timeout = 100ms;
    cfg.attempts = 2;
    net::resolver r(cfg);
    EXPECT_EQ(r.resolve("a.test", 80, soon()).error(), net::errc::dns_failure);
    // Failures are not cached.
    cfg.attempts = 1;
    net::resolver r1(cfg);
    EXPECT_EQ(r1.resolve("a.test", 80, soon(), net::address_family::ipv4).error(), net::errc::dns_failure);
  });
  EXPECT_EQ(quiet.udp_queries(), 2u * 2u + 1u);  // two rounds of A and AAAA, then one A
}

TEST(Resolver, UnreachableServerIsDnsFailure) {
  // A port nobody listens on: ICMP port unreachable, seen as ECONNREFUSED.
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  auto any = net::socket_address::ipv4_loopback();
  ASSERT_EQ(::bind(fd, any.data(), any.size()), 0);
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  net::socket_address closed(reinterpret_cast<sockaddr*>(&ss), len);
  ::close(fd);
  run([&] {
    auto cfg = config_for({closed});
    cfg.attempt_timeout = 1s;
    net::resolver r(cfg);
    EXPECT_EQ(r.resolve("a.test", 80, soon()).error(), net::errc::dns_failure);
  });
}

TEST(Resolver, CallerDeadlineIsTimedOut) {
  fake_dns quiet(silent());
  run([&] {
    auto cfg = config_for({quiet.address()});
    cfg.attempt_timeout = 5s;
    net::resolver r(cfg);
    EXPECT_EQ(r.resolve("a.test", 80, dusty::after(100ms)).error(), dusty::errc::timed_out);
    // A deadline already past, with nothing cached.
    EXPECT_EQ(r.resolve("b.test", 80, dusty::after(-1s)).error(), dusty::errc::timed_out);
    // The resolver goes away with its queries still waiting: they are cancelled.
  });
}

TEST(Resolver, TtlExpiryQueriesAgain) {
  std::vector<rr> records = {{"short.test", dns::type_a, 1, "192.0.2.9"}, {"zero.test", dns::type_a, 0, "192.0.2.10"}};
  fake_dns server(zone(records));
  run([&] {
    auto cfg = config_for({server.address()});
    cfg.min_ttl = 0s;
    net::resolver r(cfg);
    auto v4 = net::address_family::ipv4;
    EXPECT_EQ(r.resolve("short.test", 80, soon(), v4).value(), addrs{ip("192.0.2.9:80")});
    EXPECT_EQ(r.resolve("short.test", 80, soon(), v4).value(), addrs{ip("192.0.2.9:80")});
    EXPECT_EQ(server.queries_for("short.test", dns::type_a), 1u);
    dusty::sleep_for(1100ms);
    EXPECT_EQ(r.resolve("short.test", 80, soon(), v4).value(), addrs{ip("192.0.2.9:80")});
    EXPECT_EQ(server.queries_for("short.test", dns::type_a), 2u);

    // TTL 0 is not cached; with min_ttl 1 s it is.
    EXPECT_TRUE(r.resolve("zero.test", 80, soon(), v4));
    EXPECT_TRUE(r.resolve("zero.test", 80, soon(), v4));
    EXPECT_EQ(server.queries_for("zero.test", dns::type_a), 2u);
    cfg.min_ttl = 1s;
    net::resolver clamped(cfg);
    EXPECT_TRUE(clamped.resolve("zero.test", 80, soon(), v4));
    EXPECT_TRUE(clamped.resolve("zero.test", 80, soon(), v4));
    EXPECT_EQ(server.queries_for("zero.test", dns::type_a), 3u);

    // max_ttl 0 caps every answer to nothing.
    cfg.min_ttl = 0s;
    cfg.max_ttl = 0s;
    net::resolver capped(cfg);
    EXPECT_TRUE(capped.resolve("short.test", 80, soon(), v4));
    EXPECT_TRUE(capped.resolve("short.test", 80, soon(), v4));
    EXPECT_EQ(server.queries_for("short.test", dns::type_a), 4u);
  });
}

TEST(Resolver, CoalescesConcurrentLookups) {
  fake_dns server(zone(example_zone));
  server.delay(50ms);
  run([&] {
    net::resolver r(config_for({server.address()}));
    constexpr int n = 20;
    std::vector<dusty::fiber> fibers;
    int ok = 0;
    for (int i = 0; i < n; ++i)
      fibers.push_back(dusty::spawn([&r, &ok, i] {
        // Some ask for IPv4 only: they share the A query of the others.
        auto family = i % 4 == 3 ? net::address_family::ipv4 : net::address_family::any;
        auto a = r.resolve("a.test", static_cast<std::uint16_t>(1000 + i), soon(), family);
        ASSERT_TRUE(a) << a.error().message();
        EXPECT_EQ(a->back(), ip(("192.0.2.1:" + std::to_string(1000 + i)).c_str()));
        ++ok;
      }));
    for (auto& f : fibers) f.join();
    EXPECT_EQ(ok, n);
  });
  EXPECT_EQ(server.queries_for("a.test", dns::type_a), 1u);
  EXPECT_EQ(server.queries_for("a.test", dns::type_aaaa), 1u);
}

TEST(Resolver, CoalescedWaiterWithEarlierDeadlineLeavesQueryRunning) {
  fake_dns server(zone(example_zone));
  server.delay(300ms);
  run([&] {
    net::resolver r(config_for({server.address()}));
    auto patient = dusty::spawn([&] { EXPECT_TRUE(r.resolve("a.test", 80, soon())); });
    auto hasty = dusty::spawn([&] {
      EXPECT_EQ(r.resolve("a.test", 80, dusty::after(20ms)).error(), dusty::errc::timed_out);
    });
    hasty.join();
    patient.join();
    EXPECT_TRUE(r.resolve("a.test", 80, dusty::after(1ms)));  // cached by the query
  });
  EXPECT_EQ(server.udp_queries(), 2u);
}

TEST(Resolver, IgnoresForgedAndMalformedReplies) {
  fake_dns server([](const dns::message& q, bool) {
    std::vector<rr> evil = {{q.question_name, q.question_type, 300,
                             q.question_type == dns::type_a ? "6.6.6.6" : "2001:db8::666"}};
    std::vector<rr> good = {{q.question_name, q.question_type, 300,
                             q.question_type == dns::type_a ? "192.0.2.1" : "2001:db8::1"}};
    bytes_t garbage = {std::byte{1}, std::byte{2}, std::byte{3}};
    auto cut = reply(q, good);
    cut.resize(cut.size() - 3);
    auto query_echo = reply(q, evil);
    query_echo[2] &= std::byte{0x7F};  // QR clear: not a response
    return std::vector<bytes_t>{
        reply(q, evil, {.id = static_cast<std::uint16_t>(q.id ^ 0x5a5a)}),  // wrong id
        reply(q, evil, {.question_name = "other.test"}),                     // wrong question
        garbage,
        cut,
        query_echo,
        reply(q, good),
        reply(q, evil),  // a duplicate after the real answer: too late
    };
  });
  run([&] {
    net::resolver r(config_for({server.address()}));
    EXPECT_EQ(r.resolve("a.test", 80, soon()).value(), (addrs{ip("[2001:db8::1]:80"), ip("192.0.2.1:80")}));
  });
}

TEST(Resolver, OnlyForgedRepliesIsDnsFailure) {
  fake_dns server([](const dns::message& q, bool) {
    return std::vector<bytes_t>{reply(q, {{q.question_name, dns::type_a, 300, "6.6.6.6"}},
                             {.id = static_cast<std::uint16_t>(q.id + 1)})};
  });
  run([&] {
    auto cfg = config_for({server.address()});
    cfg.attempt_timeout = 100ms;
    cfg.attempts = 1;
    net::resolver r(cfg);
    EXPECT_EQ(r.resolve("a.test", 80, soon(), net::address_family::ipv4).error(), net::errc::dns_failure);
  });
}

TEST(Resolver, TruncatedAnswerRetriesOverTcp) {
  auto answers = zone(example_zone);
  fake_dns server([answers](const dns::message& q, bool tcp) {
    if (!tcp) return std::vector<bytes_t>{reply(q, {}, {.truncated = true})};
    return answers(q, tcp);
  });
  run([&] {
    net::resolver r(config_for({server.address()}));
    EXPECT_EQ(r.resolve("a.test", 80, soon()).value(), (addrs{ip("[2001:db8::1]:80"), ip("192.0.2.1:80")}));
    EXPECT_EQ(r.resolve("alias.test", 80, soon(), net::address_family::ipv4).value(), addrs{ip("192.0.2.7:80")});
  });
  EXPECT_EQ(server.tcp_queries(), 3u);
}

TEST(Resolver, TruncatedAndTcpFailsIsDnsFailure) {
  fake_dns server([](const dns::message& q, bool tcp) {
    if (!tcp) return std::vector<bytes_t>{reply(q, {}, {.truncated = true})};
    return std::vector<bytes_t>{};  // closes without answering
  });
  run([&] {
    auto cfg = config_for({server.address()});
    cfg.attempts = 1;
    net::resolver r(cfg);
    EXPECT_EQ(r.resolve("a.test", 80, soon(), net::address_family::ipv4).error(), net::errc::dns_failure);
  });
}

TEST(Resolver, HostsFileComesBeforeDns) {
  temp_dir dir;
  auto path = dir.path("hosts");
  {
    std::ofstream(path) << "192.0.2.99 myhost.test a.test\n2001:db8::99 myhost.test\n198.51.100.1 v4host.test\n";
  }
  fake_dns server(zone({{"v4host.test", dns::type_aaaa, 300, "2001:db8::42"}}));
  run([&] {
    auto cfg = config_for({server.address()});
    cfg.hosts_file = path;
    net::resolver r(cfg);
    EXPECT_EQ(r.resolve("MyHost.test", 80, soon()).value(), (addrs{ip("[2001:db8::99]:80"), ip("192.0.2.99:80")}));
    EXPECT_EQ(r.resolve("myhost.test", 80, soon(), net::address_family::ipv4).value(), addrs{ip("192.0.2.99:80")});
    EXPECT_EQ(r.resolve("a.test", 80, soon()).value(), addrs{ip("192.0.2.99:80")});
    EXPECT_EQ(server.udp_queries(), 0u);
    // Listed, but not with the family asked for: DNS is asked.
    EXPECT_EQ(r.resolve("v4host.test", 80, soon(), net::address_family::ipv6).value(),
              addrs{ip("[2001:db8::42]:80")});
    EXPECT_EQ(server.udp_queries(), 1u);

    // A changed file is read again (clear_cache() skips the once-a-second check).
    {
      std::ofstream(path + ".new") << "192.0.2.100 myhost.test\n";
    }
    ASSERT_EQ(std::rename((path + ".new").c_str(), path.c_str()), 0);
    r.clear_cache();
    EXPECT_EQ(r.resolve("myhost.test", 80, soon()).value(), addrs{ip("192.0.2.100:80")});
  });
}

TEST(Resolver, CacheIsBounded) {
  fake_dns server(zone(example_zone));
  run([&] {
    auto cfg = config_for({server.address()});
    cfg.max_cache_entries = 2;
    net::resolver r(cfg);
    auto v4 = net::address_family::ipv4;
    for (const char* name : {"a.test", "b.test", "a.test", "c.test"}) ASSERT_TRUE(r.resolve(name, 80, soon(), v4));
    // a.test was used after b.test, so b.test went when c.test came.
    EXPECT_EQ(server.udp_queries(), 3u);
    ASSERT_TRUE(r.resolve("a.test", 80, soon(), v4));
    ASSERT_TRUE(r.resolve("c.test", 80, soon(), v4));
    EXPECT_EQ(server.udp_queries(), 3u);
    ASSERT_TRUE(r.resolve("b.test", 80, soon(), v4));
    EXPECT_EQ(server.udp_queries(), 4u);

    cfg.max_cache_entries = 0;  // no cache at all
    net::resolver uncached(cfg);
    ASSERT_TRUE(uncached.resolve("a.test", 80, soon(), v4));
    ASSERT_TRUE(uncached.resolve("a.test", 80, soon(), v4));
    EXPECT_EQ(server.udp_queries(), 6u);
  });
}

TEST(Resolver, Ipv6NameServer) {
  if (!have_ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback";
  fake_dns server(zone(example_zone), net::socket_address::ipv6_loopback());
  run([&] {
    net::resolver r(config_for({server.address()}));
    EXPECT_EQ(r.resolve("b.test", 80, soon(), net::address_family::ipv4).value(), addrs{ip("192.0.2.2:80")});
  });
}

TEST(Resolver, LocalResolverPerShard) {
  dusty::runtime rt(config(std::min(2u, usable_cpus())));
  rt.run([&] {
    auto* mine = &net::resolver::local();
    EXPECT_EQ(mine, &net::resolver::local());
    EXPECT_EQ(net::resolver::local().resolve("localhost", 80).value().size(), 2u);
    if (dusty::shard_count() > 1) {
      auto other = dusty::submit_to(1, [] {
        EXPECT_EQ(net::resolver::local().resolve("127.0.0.1", 9).value(), addrs{ip("127.0.0.1:9")});
        return reinterpret_cast<std::uintptr_t>(&net::resolver::local());
      });
      EXPECT_NE(other.get(), reinterpret_cast<std::uintptr_t>(mine));
    }
  });
}

}  // namespace
