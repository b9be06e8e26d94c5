#pragma once
// Helpers shared by the net tests.
#include "support/support.hpp"

#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/net/connection.hpp>
#include <dusty/net/listener.hpp>

#include <gtest/gtest.h>

#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dusty::net::testing {

using namespace std::chrono_literals;

/// Every wait in a test has a deadline, so a bug fails the test instead of hanging it.
inline deadline soon() { return after(10s); }

inline runtime_config config(unsigned shards = 1) {
  runtime_config c;
  c.shards = shards;
  c.handle_signals = false;
  return c;
}

using dusty::test::bytes;

inline std::string text(std::span<const std::byte> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

/// A connected pair over a loopback listener: {client end, server end}. Loopback
/// connects complete in the kernel before accept, so no second fiber is needed.
inline std::pair<connection, connection> connected_pair(listener& l) {
  auto c = connect(l.local_address(), soon());
  EXPECT_TRUE(c) << c.error().message();
  auto s = l.accept(soon());
  EXPECT_TRUE(s) << s.error().message();
  return {std::move(*c), std::move(*s)};
}

inline std::pair<connection, connection> tcp_pair() {
  auto l = listen(socket_address::ipv4_loopback());
  EXPECT_TRUE(l) << l.error().message();
  return connected_pair(*l);
}

/// Reads exactly n bytes as a string, or fails the test.
inline std::string read_string(stream& s, std::size_t n) {
  std::string out(n, '\0');
  auto r = s.read(std::as_writable_bytes(std::span(out)), soon());
  EXPECT_TRUE(r) << r.error().message();
  return out;
}

/// Echoes everything read from `c` until the peer closes.
inline void echo(connection& c) {
  std::byte buf[4096];
  for (;;) {
    auto n = c.read_some(buf, soon());
    if (!n) {
      EXPECT_EQ(n.error(), dusty::errc::eof) << n.error().message();
      return;
    }
    auto w = c.write({buf, *n}, soon());
    ASSERT_TRUE(w) << w.error().message();
  }
}

/// Accepts `count` connections from `l`, echoing on each in its own fiber, and
/// finishes when all of them have.
inline fiber echo_server(listener& l, int count) {
  return spawn([&l, count] {
    std::vector<fiber> conns;
    for (int i = 0; i < count; ++i) {
      auto c = l.accept(soon());
      ASSERT_TRUE(c) << c.error().message();
      conns.push_back(spawn([c = std::move(*c)]() mutable { echo(c); }));
    }
    for (auto& f : conns) f.join();
  });
}

/// Whether the kernel lets us bind a socket to [::1].
inline bool have_ipv6_loopback() {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  auto a = socket_address::ipv6_loopback();
  bool ok = ::bind(fd, a.data(), a.size()) == 0;
  ::close(fd);
  return ok;
}

using dusty::test::temp_dir;
using dusty::test::usable_cpus;

}  // namespace dusty::net::testing
