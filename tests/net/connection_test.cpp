#include <dusty/net/connection.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/net/error.hpp>
#include <dusty/net/listener.hpp>

#include "net/test_util.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace dusty::net::testing;
namespace net = dusty::net;
using dusty::errc;
using clock_type = std::chrono::steady_clock;

// Client: writes `message`, reads it back, ends its side and expects eof.
void round_trip(const net::socket_address& to, const std::string& message) {
  auto c = net::connect(to, soon());
  ASSERT_TRUE(c) << "connect to " << to.to_string() << ": " << c.error().message();
  ASSERT_TRUE(c->write(bytes(message), soon()));
  EXPECT_EQ(read_string(*c, message.size()), message);
  ASSERT_TRUE(c->shutdown_write());
  std::byte b[1];
  EXPECT_EQ(c->read_some(b, soon()).error(), errc::eof);
}

void echo_round_trip_on(const net::socket_address& where) {
  dusty::runtime rt(config());
  rt.run([&] {
    auto l = net::listen(where);
    ASSERT_TRUE(l) << l.error().message();
    auto server = echo_server(*l, 1);
    round_trip(l->local_address(), "hello over " + l->local_address().to_string());
    server.join();
  });
}

// A listener with backlog 1 that never accepts: once its queue is full the kernel
// drops further SYNs (tcp_conn_request: sk_acceptq_is_full), so a connect to it stays
// in SYN_SENT and can only end by its deadline or by cancellation. Fills the queue and
// returns the connections holding it.
std::vector<net::connection> fill_backlog(const net::listener& l) {
  std::vector<net::connection> held;
  for (int i = 0; i < 16; ++i) {
    auto c = net::connect(l.local_address(), dusty::after(200ms));
    if (!c) {
      EXPECT_EQ(c.error(), errc::timed_out) << c.error().message();
      return held;
    }
    held.push_back(std::move(*c));
  }
  ADD_FAILURE() << "the kernel kept accepting into a listener with backlog 1";
  return held;
}

TEST(connection, echo_round_trip_ipv4) { echo_round_trip_on(net::socket_address::ipv4_loopback()); }

TEST(connection, echo_round_trip_ipv6) {
  if (!have_ipv6_loopback()) GTEST_SKIP() << "this kernel has no IPv6 loopback (binding [::1] failed)";
  echo_round_trip_on(net::socket_address::ipv6_loopback());
}

TEST(connection, echo_round_trip_unix_path) {
  temp_dir dir;
  echo_round_trip_on(*net::socket_address::unix_socket(dir.path("echo.sock")));
}

TEST(connection, echo_round_trip_unix_abstract) {
  echo_round_trip_on(*net::socket_address::unix_socket("@dusty-test-" + std::to_string(::getpid())));
}

TEST(connection, many_concurrent_connections) {
  constexpr int clients = 500;
  dusty::runtime rt(config());
  rt.run([&] {
    auto l = net::listen(net::socket_address::ipv4_loopback());
    ASSERT_TRUE(l);
    auto server = echo_server(*l, clients);
    std::vector<dusty::fiber> fibers;
    int done = 0;
    for (int i = 0; i < clients; ++i)
      fibers.push_back(dusty::spawn([&, i] {
        auto c = net::connect(l->local_address(), soon());
        ASSERT_TRUE(c) << c.error().message();
        // Everyone connects first, then everyone talks: all are open at once.
        dusty::yield();
        std::string message = "client " + std::to_string(i) + std::string(static_cast<std::size_t>(i), '.');
        ASSERT_TRUE(c->write(bytes(message), soon()));
        EXPECT_EQ(read_string(*c, message.size()), message);
        ++done;
      }));
    for (auto& f : fibers) f.join();
    server.join();
    EXPECT_EQ(done, clients);
  });
}

TEST(connection, connect_refused_gives_the_code_and_a_clear_message) {
  dusty::runtime rt(config());
  rt.run([] {
    // A port that was just in use and is closed now.
    auto l = net::listen(net::socket_address::ipv4_loopback());
    ASSERT_TRUE(l);
    auto to = l->local_address();
    l->close();
    auto c = net::connect(to, soon());
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error(), std::errc::connection_refused);
    net::error e(c.error(), "connect to " + to.to_string());
    EXPECT_EQ(std::string(e.what()), "connect to " + to.to_string() + ": Connection refused");
    EXPECT_EQ(e.code(), c.error());

    temp_dir dir;
    auto missing = *net::socket_address::unix_socket(dir.path("nobody.sock"));
    EXPECT_EQ(net::connect(missing, soon()).error(), std::errc::no_such_file_or_directory);
  });
}

TEST(connection, connect_times_out_when_the_listener_queue_is_full) {
  dusty::runtime rt(config());
  rt.run([] {
    auto l = net::listen(net::socket_address::ipv4_loopback(), {.backlog = 1});
    ASSERT_TRUE(l);
    auto held = fill_backlog(*l);
    EXPECT_GE(held.size(), 1u);
    auto start = clock_type::now();
    auto c = net::connect(l->local_address(), dusty::after(50ms));
    auto took = clock_type::now() - start;
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error(), errc::timed_out);
    EXPECT_EQ(c.error(), std::errc::timed_out);  // the generic condition matches too
    EXPECT_GE(took, 50ms);
    EXPECT_LT(took, 5s);
  });
}

TEST(connection, cancelling_a_fiber_blocked_in_connect) {
  dusty::runtime rt(config());
  rt.run([] {
    auto l = net::listen(net::socket_address::ipv4_loopback(), {.backlog = 1});
    ASSERT_TRUE(l);
    auto held = fill_backlog(*l);
    bool returned = false;
    auto f = dusty::spawn([&] {
      (void)net::connect(l->local_address());
      returned = true;
    });
    dusty::yield();  // f runs up to its wait in connect
    EXPECT_FALSE(f.done());
    auto start = clock_type::now();
    f.cancel();
    EXPECT_THROW(f.join(), dusty::cancelled_error);
    EXPECT_LT(clock_type::now() - start, 1s);
    EXPECT_FALSE(returned);
  });
}

TEST(connection, read_deadline_times_out_and_the_connection_stays_usable) {
  dusty::runtime rt(config());
  rt.run([] {
    auto [client, server] = tcp_pair();
    std::byte buf[16];
    auto start = clock_type::now();
    auto r = client.read_some(buf, dusty::after(50ms));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::timed_out);
    EXPECT_GE(clock_type::now() - start, 50ms);
    ASSERT_TRUE(server.write(bytes("late"), soon()));
    EXPECT_EQ(read_string(client, 4), "late");
  });
}

TEST(connection, write_to_a_peer_that_never_reads_hits_its_deadline) {
  dusty::runtime rt(config());
  rt.run([] {
    auto [client, server] = tcp_pair();
    // Small socket buffers, so the kernel stops taking bytes soon.
    int small = 4096;
    ASSERT_EQ(::setsockopt(client.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    ASSERT_EQ(::setsockopt(server.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    std::vector<std::byte> payload(16 << 20);
    auto start = clock_type::now();
    auto w = client.write(payload, dusty::after(100ms));
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), errc::timed_out);
    EXPECT_GE(clock_type::now() - start, 100ms);
    iovec iov{payload.data(), payload.size()};
    EXPECT_EQ(client.writev({&iov, 1}, dusty::after(50ms)).error(), errc::timed_out);
  });
}

TEST(connection, cancelling_a_fiber_blocked_in_read_loses_no_data) {
  dusty::runtime rt(config());
  rt.run([] {
    auto [client, server] = tcp_pair();
    auto f = dusty::spawn([&client] {
      std::byte buf[16];
      (void)client.read_some(buf);
      ADD_FAILURE() << "read_some returned in a cancelled fiber";
    });
    dusty::yield();
    EXPECT_FALSE(f.done());
    f.cancel();
    EXPECT_THROW(f.join(), dusty::cancelled_error);
    // The cancelled receive is gone from the kernel: the next bytes reach this reader.
    ASSERT_TRUE(server.write(bytes("after cancel"), soon()));
    EXPECT_EQ(read_string(client, 12), "after cancel");
  });
}

TEST(connection, deadline_scope_interrupts_a_blocked_read) {
  dusty::runtime rt(config());
  rt.run([] {
    auto [client, server] = tcp_pair();
    std::byte buf[16];
    EXPECT_THROW(dusty::with_timeout(30ms, [&] { return client.read_some(buf); }), dusty::timeout_error);
  });
}

TEST(connection, eof_when_the_peer_closes) {
  dusty::runtime rt(config());
  rt.run([] {
    auto [client, server] = tcp_pair();
    ASSERT_TRUE(server.write(bytes("bye"), soon()));
    server.close();
    EXPECT_FALSE(server.is_open());
    // A short exact read gets what was sent, then eof.
    std::byte buf[8];
    auto r = client.read(buf, soon());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::eof);
    EXPECT_EQ(text({buf, 3}), "bye");
    EXPECT_EQ(client.read_some(buf, soon()).error(), errc::eof);
    EXPECT_EQ(client.read_some({buf, 0}, soon()).value(), 0u);  // an empty read is not eof
  });
}

TEST(connection, shutdown_write_ends_one_direction_only) {
  dusty::runtime rt(config());
  rt.run([] {
    auto [client, server] = tcp_pair();
    ASSERT_TRUE(client.write(bytes("request"), soon()));
    ASSERT_TRUE(client.shutdown_write());
    EXPECT_EQ(read_string(server, 7), "request");
    std::byte b[1];
    EXPECT_EQ(server.read_some(b, soon()).error(), errc::eof);
    ASSERT_TRUE(server.write(bytes("response"), soon()));
    EXPECT_EQ(read_string(client, 8), "response");
  });
}

TEST(connection, shutdown_both_wakes_a_blocked_reader_with_eof) {
  dusty::runtime rt(config());
  rt.run([] {
    auto [client, server] = tcp_pair();
    std::error_code seen;
    auto f = dusty::spawn([&] {
      std::byte buf[16];
      seen = client.read_some(buf, soon()).error();
    });
    dusty::yield();
    EXPECT_FALSE(f.done());
    ASSERT_TRUE(client.shutdown(net::shutdown_how::both));
    f.join();
    EXPECT_EQ(seen, errc::eof);
  });
}

TEST(connection, shutdown_both_wakes_a_blocked_writer_with_epipe) {
  dusty::runtime rt(config());
  rt.run([] {
    auto [client, server] = tcp_pair();
    int small = 4096;
    ASSERT_EQ(::setsockopt(client.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    ASSERT_EQ(::setsockopt(server.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    std::vector<std::byte> payload(16 << 20);
    std::error_code seen;
    auto f = dusty::spawn([&] { seen = client.write(payload, soon()).error(); });
    dusty::yield();
    EXPECT_FALSE(f.done());  // the peer reads nothing: the writer waits for room
    ASSERT_TRUE(client.shutdown(net::shutdown_how::both));
    f.join();
    EXPECT_EQ(seen, std::errc::broken_pipe) << seen.message();
  });
}

TEST(connection, large_transfer_both_ways_with_writev) {
  constexpr std::size_t size = 8 << 20;
  dusty::runtime rt(config());
  rt.run([] {
    auto [client, server] = tcp_pair();
    auto pattern = [](std::size_t seed) {
      std::vector<std::byte> v(size);
      for (std::size_t i = 0; i < size; ++i) v[i] = static_cast<std::byte>((i * 31 + seed) >> 3);
      return v;
    };
    const auto up = pattern(1), down = pattern(2);
    // Uneven segments, so partial sends stop inside them.
    auto segments = [](const std::vector<std::byte>& v) {
      std::vector<iovec> iov;
      for (std::size_t at = 0, len = 1; at < v.size(); at += len, len = len * 7 + 13)
        iov.push_back({const_cast<std::byte*>(v.data()) + at, std::min(len, v.size() - at)});
      return iov;
    };
    auto up_iov = segments(up), down_iov = segments(down);
    std::vector<std::byte> got_up(size), got_down(size);
    auto start = clock_type::now();
    auto f1 = dusty::spawn([&] { ASSERT_TRUE(client.writev(up_iov, soon())); });
    auto f2 = dusty::spawn([&] { ASSERT_TRUE(server.writev(down_iov, soon())); });
    auto f3 = dusty::spawn([&] { ASSERT_TRUE(server.read(got_up, soon())); });
    ASSERT_TRUE(client.read(got_down, soon()));
    f1.join();
    f2.join();
    f3.join();
    auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
    std::printf("[ info ] 2 x 8 MiB over loopback (%s): %.1f ms, %.0f MiB/s\n",
                std::string(dusty::to_string(dusty::reactor::backend())).c_str(), secs * 1e3, 16 / secs);
    EXPECT_TRUE(got_up == up);
    EXPECT_TRUE(got_down == down);
  });
}

TEST(connection, writev_sends_more_segments_than_iov_max) {
  dusty::runtime rt(config());
  rt.run([] {
    auto [client, server] = tcp_pair();
    std::vector<std::string> parts;
    for (int i = 0; i < 3000; ++i) parts.push_back(std::to_string(i) + ",");
    std::vector<iovec> iov;
    std::string expected;
    for (auto& p : parts) {
      iov.push_back({p.data(), p.size()});
      iov.push_back({nullptr, 0});  // empty segments are skipped
      expected += p;
    }
    auto reader = dusty::spawn([&] { EXPECT_EQ(read_string(server, expected.size()), expected); });
    ASSERT_TRUE(client.writev(iov, soon()));
    reader.join();
  });
}

TEST(connection, addresses_of_both_ends_match) {
  dusty::runtime rt(config());
  rt.run([] {
    auto [client, server] = tcp_pair();
    auto cl = client.local_address(), cr = client.remote_address();
    auto sl = server.local_address(), sr = server.remote_address();
    ASSERT_TRUE(cl && cr && sl && sr);
    EXPECT_EQ(*cl, *sr);
    EXPECT_EQ(*cr, *sl);
    EXPECT_NE(cl->port(), 0);
    EXPECT_EQ(cl->to_string().rfind("127.0.0.1:", 0), 0u);
    // Asked once, the peer's address stays known after the peer has gone.
    client.close();
    std::byte b[1];
    EXPECT_EQ(server.read_some(b, soon()).error(), errc::eof);
    ASSERT_TRUE(server.remote_address());
    EXPECT_EQ(*server.remote_address(), *cl);
    EXPECT_TRUE(server.set_nodelay(true));
  });
}

TEST(connection, moved_from_and_closed_connections_report_closed) {
  dusty::runtime rt(config());
  rt.run([] {
    auto [client, server] = tcp_pair();
    int fd = client.fd();
    net::connection moved = std::move(client);
    EXPECT_EQ(moved.fd(), fd);
    EXPECT_FALSE(client.is_open());
    std::byte b[1];
    EXPECT_EQ(client.read_some(b).error(), errc::closed);
    EXPECT_EQ(client.write(bytes("x")).error(), errc::closed);
    EXPECT_EQ(client.shutdown_write().error(), errc::closed);
    EXPECT_EQ(client.remote_address().error(), errc::closed);
    client.close();  // idempotent
    ASSERT_TRUE(moved.write(bytes("x"), soon()));
    EXPECT_EQ(read_string(server, 1), "x");
  });
}

}  // namespace
