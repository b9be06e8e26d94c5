#include <dusty/core/reactor.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>

#include <gtest/gtest.h>

#include "support/support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using dusty::test::bytes;

namespace {

std::string as_string(std::span<const std::byte> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// A non-blocking TCP listener on 127.0.0.1 and an ephemeral port.
struct listener {
  int fd = -1;
  sockaddr_in addr{};
  listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 64) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("listener setup failed");
  }
  ~listener() { dusty::reactor::close(fd); }
  // Connects a new non-blocking client; returns its descriptor.
  int connect() const {
    int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    auto r = dusty::reactor::connect(c, reinterpret_cast<const sockaddr*>(&addr), sizeof addr, dusty::after(10s));
    if (!r) throw std::system_error(r.error(), "connect");
    return c;
  }
};

TEST(reactor, backend_follows_config_and_environment) {
  {
    dusty::runtime rt(dusty::test::shards(1));
    dusty::backend_kind inside{};
    dusty::test::run(rt, [&] { inside = dusty::reactor::backend(); });
    EXPECT_EQ(inside, rt.backend());
    if (const char* env = std::getenv("DUSTY_BACKEND"); env && *env) {
      EXPECT_EQ(rt.backend(), dusty::parse_backend_kind(env).value());
    }
  }
  for (auto kind : {dusty::backend_kind::epoll, dusty::backend_kind::io_uring}) {
    auto config = dusty::test::shards(1);
    config.backend = kind;
    dusty::runtime rt(config);
    dusty::test::run(rt, [&] { EXPECT_EQ(dusty::reactor::backend(), kind); });
  }
}

TEST(reactor, send_and_recv_on_a_socket_pair) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::test::socket_pair sp;
    std::string got;
    auto reader = dusty::spawn([&] {
      std::byte buf[64];
      while (got.size() < 11) {
        auto r = dusty::reactor::recv(sp.fd[0], buf);
        ASSERT_TRUE(r) << r.error().message();
        ASSERT_GT(*r, 0u);
        got += as_string(std::span(buf, *r));
      }
    });
    dusty::yield();  // the reader is parked now
    auto w = dusty::reactor::send(sp.fd[1], bytes("hello "));
    ASSERT_TRUE(w);
    EXPECT_EQ(*w, 6u);
    iovec iov[1] = {{const_cast<char*>("world"), 5}};
    auto v = dusty::reactor::sendv(sp.fd[1], iov);
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, 5u);
    reader.join();
    EXPECT_EQ(got, "hello world");
    // The peer closing reads as 0.
    ::shutdown(sp.fd[1], SHUT_WR);
    std::byte buf[8];
    EXPECT_EQ(dusty::reactor::recv(sp.fd[0], buf, dusty::after(10s)), 0u);
  });
}

TEST(reactor, read_and_write_on_a_pipe) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::test::pipe_pair p;
    std::string got;
    auto reader = dusty::spawn([&] {
      std::byte buf[16];
      auto r = dusty::reactor::read(p.fd[0], buf);
      ASSERT_TRUE(r);
      got = as_string(std::span(buf, *r));
    });
    dusty::yield();
    EXPECT_EQ(dusty::reactor::write(p.fd[1], bytes("pipe")), 4u);
    reader.join();
    EXPECT_EQ(got, "pipe");
  });
}

TEST(reactor, recv_lazy_takes_a_buffer_only_when_data_arrives) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::test::socket_pair sp;
    struct source_state {
      std::byte buf[32];
      int calls = 0;
    } st;
    dusty::buffer_source source{[](void* ctx) -> std::span<std::byte> {
                                  auto* s = static_cast<source_state*>(ctx);
                                  ++s->calls;
                                  return s->buf;
                                },
                                &st};
    std::string got;
    auto reader = dusty::spawn([&] {
      auto r = dusty::reactor::recv_lazy(sp.fd[0], sizeof st.buf, source);
      ASSERT_TRUE(r);
      got = as_string(std::span(st.buf, *r));
    });
    for (int i = 0; i < 5; ++i) dusty::yield();
    EXPECT_EQ(st.calls, 0);  // parked without a buffer
    EXPECT_EQ(dusty::reactor::send(sp.fd[1], bytes("lazy")), 4u);
    reader.join();
    EXPECT_EQ(got, "lazy");
    EXPECT_EQ(st.calls, 1);
  });
}

TEST(reactor, accept_and_connect_on_loopback) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    listener l;
    int server = -1;
    auto acceptor = dusty::spawn([&] {
      sockaddr_in peer{};
      socklen_t len = sizeof peer;
      auto r = dusty::reactor::accept(l.fd, reinterpret_cast<sockaddr*>(&peer), &len, dusty::after(10s));
      ASSERT_TRUE(r) << r.error().message();
      server = *r;
      EXPECT_EQ(peer.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    });
    dusty::yield();
    int client = l.connect();
    acceptor.join();
    ASSERT_GE(server, 0);
    EXPECT_EQ(dusty::reactor::send(client, bytes("ping")), 4u);
    std::byte buf[8];
    auto r = dusty::reactor::recv(server, buf, dusty::after(10s));
    ASSERT_TRUE(r);
    EXPECT_EQ(as_string(std::span(buf, *r)), "ping");
    dusty::reactor::close(client);
    dusty::reactor::close(server);
  });
}

TEST(reactor, op_deadlines_return_timed_out) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::test::socket_pair sp;
    dusty::test::pipe_pair p;
    listener l;
    std::byte buf[8];
    auto start = std::chrono::steady_clock::now();
    auto r = dusty::reactor::recv(sp.fd[0], buf, dusty::after(5ms));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), dusty::errc::timed_out);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 5ms);

    auto rd = dusty::reactor::read(p.fd[0], buf, dusty::after(5ms));
    ASSERT_FALSE(rd);
    EXPECT_EQ(rd.error(), dusty::errc::timed_out);

    auto a = dusty::reactor::accept(l.fd, nullptr, nullptr, dusty::after(5ms));
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error(), dusty::errc::timed_out);

    // A deadline already past still times out rather than blocking.
    auto late = dusty::reactor::recv(sp.fd[0], buf, std::chrono::steady_clock::now() - 1s);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error(), dusty::errc::timed_out);

    // And nothing was consumed: data sent now is all there.
    EXPECT_EQ(dusty::reactor::send(sp.fd[1], bytes("ok")), 2u);
    EXPECT_EQ(dusty::reactor::recv(sp.fd[0], buf, dusty::after(10s)), 2u);
  });
}

TEST(reactor, cancel_interrupts_recv_read_and_accept) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::test::socket_pair sp;
    dusty::test::pipe_pair p;
    listener l;
    std::vector<dusty::fiber> waiters;
    waiters.push_back(dusty::spawn([&] {
      std::byte buf[8];
      (void)dusty::reactor::recv(sp.fd[0], buf);
    }));
    waiters.push_back(dusty::spawn([&] {
      std::byte buf[8];
      (void)dusty::reactor::read(p.fd[0], buf);
    }));
    waiters.push_back(dusty::spawn([&] { (void)dusty::reactor::accept(l.fd); }));
    dusty::yield();
    dusty::yield();  // on io_uring the operations are in the kernel now
    for (auto& f : waiters) f.cancel();
    for (auto& f : waiters) EXPECT_THROW(f.join(), dusty::cancelled_error);

    // The descriptors still work, and nothing was consumed.
    std::byte buf[8];
    EXPECT_EQ(dusty::reactor::send(sp.fd[1], bytes("abc")), 3u);
    EXPECT_EQ(dusty::reactor::recv(sp.fd[0], buf, dusty::after(10s)), 3u);
    EXPECT_EQ(dusty::reactor::write(p.fd[1], bytes("de")), 2u);
    EXPECT_EQ(dusty::reactor::read(p.fd[0], buf, dusty::after(10s)), 2u);
    int client = l.connect();
    auto server = dusty::reactor::accept(l.fd, nullptr, nullptr, dusty::after(10s));
    ASSERT_TRUE(server);
    dusty::reactor::close(*server);
    dusty::reactor::close(client);
  });
}

TEST(reactor, deadline_scope_interrupts_recv_read_and_accept) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::test::socket_pair sp;
    dusty::test::pipe_pair p;
    listener l;
    std::byte buf[8];
    EXPECT_THROW(dusty::with_timeout(5ms, [&] { return dusty::reactor::recv(sp.fd[0], buf); }), dusty::timeout_error);
    EXPECT_THROW(dusty::with_timeout(5ms, [&] { return dusty::reactor::read(p.fd[0], buf); }), dusty::timeout_error);
    EXPECT_THROW(dusty::with_timeout(5ms, [&] { return dusty::reactor::accept(l.fd); }), dusty::timeout_error);
    EXPECT_EQ(dusty::reactor::send(sp.fd[1], bytes("x")), 1u);
    EXPECT_EQ(dusty::with_timeout(10s, [&] { return dusty::reactor::recv(sp.fd[0], buf); }), 1u);
  });
}

TEST(reactor, no_byte_is_lost_when_data_and_cancel_race) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::test::socket_pair sp;
    int returned = 0, cancelled = 0;
    for (int round = 0; round < 200; ++round) {
      std::string got;
      auto reader = dusty::spawn([&] {
        std::byte buf[16];
        auto r = dusty::reactor::recv(sp.fd[0], buf);
        ASSERT_TRUE(r);
        got = as_string(std::span(buf, *r));
      });
      dusty::yield();
      if (round % 2) dusty::yield();
      // A plain send(2), so this fiber does not suspend between the data and the cancel.
      ASSERT_EQ(::send(sp.fd[1], "data", 4, MSG_DONTWAIT), 4);
      reader.cancel();
      try {
        reader.join();
        ++returned;
      } catch (const dusty::cancelled_error&) {
        ++cancelled;
      }
      while (got.size() < 4) {  // what the reader did not take is still in the socket
        std::byte buf[16];
        auto r = dusty::reactor::recv(sp.fd[0], std::span(buf, 4 - got.size()), dusty::after(10s));
        ASSERT_TRUE(r) << r.error().message();
        got += as_string(std::span(buf, *r));
      }
      ASSERT_EQ(got, "data");
    }
    EXPECT_EQ(returned + cancelled, 200);
  });
}

// 10,000 receives parked at once, spread over 100 socket pairs, each ended in one of
// three ways. With io_uring this pushes well past the submission queue (4,096 entries):
// the queue must be flushed and retried, never dropped, or some fiber never wakes.
enum class ending { op_deadline, scope_deadline, cancel };

void ten_thousand_receives(ending how) {
  constexpr int fibers_n = 10'000, pairs_n = 100;
  std::vector<std::unique_ptr<dusty::test::socket_pair>> pairs;
  for (int i = 0; i < pairs_n; ++i) pairs.push_back(std::make_unique<dusty::test::socket_pair>());
  int timed_out = 0, timeouts = 0, cancelled = 0, other = 0;
  std::vector<dusty::fiber> fibers;
  fibers.reserve(fibers_n);
  for (int i = 0; i < fibers_n; ++i) {
    int fd = pairs[static_cast<std::size_t>(i % pairs_n)]->fd[0];
    auto d = std::chrono::microseconds(30'000 + i % 2000);
    fibers.push_back(dusty::spawn([&, fd, d] {
      std::byte buf[1];
      try {
        if (how == ending::op_deadline) {
          auto r = dusty::reactor::recv(fd, buf, dusty::after(d));
          (!r && r.error() == dusty::errc::timed_out ? timed_out : other)++;
        } else if (how == ending::scope_deadline) {
          dusty::with_timeout(d, [&] { return dusty::reactor::recv(fd, buf); });
          ++other;
        } else {
          (void)dusty::reactor::recv(fd, buf);
          ++other;
        }
      } catch (const dusty::timeout_error&) {
        ++timeouts;
      } catch (const dusty::cancelled_error&) {
        ++cancelled;
      }
    }));
  }
  dusty::yield();
  dusty::yield();
  if (how == ending::cancel)
    for (auto& f : fibers) f.cancel();
  for (auto& f : fibers) f.join();  // a lost wake-up trips the test's watchdog
  EXPECT_EQ(other, 0);
  EXPECT_EQ(how == ending::op_deadline ? timed_out : how == ending::scope_deadline ? timeouts : cancelled, fibers_n);
}

// Every receive whose data has arrived completes in the same loop turn, as epoll_wait
// hands back every ready descriptor at once. Since Linux 6.13 one io_uring_enter runs at
// most 20 deferred completions; a backend that entered once per turn left the rest for
// later turns, and busy connections overtook the waiting ones.
TEST(reactor, every_arrived_receive_completes_in_one_loop_turn) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    constexpr int n = 200;  // fewer than the epoll backend's 256 events per turn
    std::vector<std::unique_ptr<dusty::test::socket_pair>> pairs;
    for (int i = 0; i < n; ++i) pairs.push_back(std::make_unique<dusty::test::socket_pair>());
    int received = 0;
    std::vector<dusty::fiber> readers;
    for (int i = 0; i < n; ++i)
      readers.push_back(dusty::spawn([&, i] {
        std::byte b;
        if (dusty::reactor::recv(pairs[i]->fd[0], std::span(&b, 1), dusty::after(30s)) == 1u) ++received;
      }));
    dusty::yield();  // the readers run and park in their receives
    dusty::yield();  // the receives reach the kernel and wait there
    for (auto& p : pairs) ASSERT_EQ(::write(p->fd[1], "x", 1), 1);
    dusty::yield();  // this turn's poll completes all of them
    dusty::yield();  // the readers run before this fiber does again
    EXPECT_EQ(received, n);
    for (auto& r : readers) r.join();
    EXPECT_EQ(received, n);
  });
}

TEST(reactor, ten_thousand_receives_with_op_deadlines) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] { ten_thousand_receives(ending::op_deadline); });
}

TEST(reactor, ten_thousand_receives_in_deadline_scopes) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] { ten_thousand_receives(ending::scope_deadline); });
}

TEST(reactor, ten_thousand_receives_cancelled_at_once) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] { ten_thousand_receives(ending::cancel); });
}

}  // namespace
