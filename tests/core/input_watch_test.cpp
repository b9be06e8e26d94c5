// input_watch on both backends: it fires once for input that arrives later, for input
// that was there before it was armed (epoll's edge came earlier), for EOF and for a
// shutdown of the watched socket, and at its deadline when nothing comes; its handler may
// spawn a fiber to read, arm the watch again, and many watches fire independently.
#include <dusty/core/input_watch.hpp>

#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/core/wait_queue.hpp>

#include <gtest/gtest.h>

#include "support/support.hpp"

#include <sys/socket.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using dusty::input_watch;

namespace {

// A watch that records what it saw and wakes a waiting fiber.
struct recorder {
  input_watch watch{[](void* owner, input_watch::event e) noexcept {
                      auto* self = static_cast<recorder*>(owner);
                      self->events.push_back(e);
                      self->fired.notify_all();
                    },
                    this};
  std::deque<input_watch::event> events;
  dusty::wait_queue fired;

  input_watch::event next() {
    while (events.empty()) fired.wait();
    auto e = events.front();
    events.pop_front();
    return e;
  }
};

void send_text(int fd, std::string_view s) {
  ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
}

}  // namespace

TEST(input_watch, fires_when_input_arrives_and_not_before) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::test::socket_pair sp;
    recorder r;
    r.watch.arm(sp.fd[0], dusty::after(10s));
    EXPECT_TRUE(r.watch.armed());
    dusty::sleep_for(50ms);
    EXPECT_TRUE(r.events.empty());
    send_text(sp.fd[1], "x");
    EXPECT_EQ(r.next(), input_watch::event::input);
    EXPECT_FALSE(r.watch.armed());
    dusty::sleep_for(20ms);
    EXPECT_TRUE(r.events.empty()) << "a watch fires once per arm";
  });
}

TEST(input_watch, reports_input_that_came_before_it_was_armed) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::test::socket_pair sp;
    // A read that waited first registers the socket (epoll's edge is then spent).
    std::byte b[8];
    auto waited = dusty::spawn([&] { (void)dusty::reactor::recv(sp.fd[0], b, dusty::after(10s)); });
    dusty::sleep_for(10ms);
    send_text(sp.fd[1], "a");
    waited.join();
    send_text(sp.fd[1], "b");  // arrives with no reader: no one sees this edge
    dusty::sleep_for(10ms);
    recorder r;
    r.watch.arm(sp.fd[0], dusty::after(10s));
    EXPECT_EQ(r.next(), input_watch::event::input);
  });
}

TEST(input_watch, times_out_at_its_deadline) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::test::socket_pair sp;
    recorder r;
    auto start = std::chrono::steady_clock::now();
    r.watch.arm(sp.fd[0], dusty::after(100ms));
    EXPECT_EQ(r.next(), input_watch::event::timed_out);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
    // Armed again, it sees what comes next.
    r.watch.arm(sp.fd[0], dusty::after(10s));
    send_text(sp.fd[1], "x");
    EXPECT_EQ(r.next(), input_watch::event::input);
  });
}

TEST(input_watch, eof_and_shutdown_are_input) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    {
      dusty::test::socket_pair sp;
      recorder r;
      r.watch.arm(sp.fd[0], dusty::no_deadline);
      ::shutdown(sp.fd[1], SHUT_WR);  // the peer closes its side
      EXPECT_EQ(r.next(), input_watch::event::input);
    }
    {
      dusty::test::socket_pair sp;
      recorder r;
      r.watch.arm(sp.fd[0], dusty::no_deadline);
      ::shutdown(sp.fd[0], SHUT_RDWR);  // how an owner ends a watch early
      EXPECT_EQ(r.next(), input_watch::event::input);
    }
  });
}

TEST(input_watch, the_handler_may_spawn_a_reader_and_rearm) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::test::socket_pair sp;
    struct session {
      int fd;
      std::string got;
      dusty::wait_queue done;
      input_watch watch{[](void* owner, input_watch::event) noexcept {
                          auto* s = static_cast<session*>(owner);
                          dusty::spawn([s] {
                            std::byte b[64];
                            auto n = dusty::reactor::recv(s->fd, b, dusty::after(1s));
                            if (n && *n > 0) s->got.append(reinterpret_cast<const char*>(b), *n);
                            if (s->got.size() < 3)
                              s->watch.arm(s->fd, dusty::after(10s));  // the fiber ends; the watch waits
                            else
                              s->done.notify_all();
                          }).detach();
                        },
                        this};
    } s{sp.fd[0]};
    s.watch.arm(s.fd, dusty::after(10s));
    for (char c : std::string("abc")) {
      dusty::sleep_for(10ms);
      send_text(sp.fd[1], std::string(1, c));
    }
    while (s.got.size() < 3) s.done.wait();
    EXPECT_EQ(s.got, "abc");
  });
}

TEST(input_watch, many_watches_fire_independently) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    constexpr int n = 500;
    std::vector<std::unique_ptr<dusty::test::socket_pair>> pairs;
    std::vector<std::unique_ptr<recorder>> recs;
    for (int i = 0; i < n; ++i) {
      pairs.push_back(std::make_unique<dusty::test::socket_pair>());
      recs.push_back(std::make_unique<recorder>());
      // Odd ones time out, even ones get input.
      recs.back()->watch.arm(pairs.back()->fd[0], dusty::after(i % 2 ? 50ms : 10s));
    }
    for (int i = 0; i < n; i += 2) send_text(pairs[i]->fd[1], "x");
    for (int i = 0; i < n; ++i)
      EXPECT_EQ(recs[i]->next(), i % 2 ? input_watch::event::timed_out : input_watch::event::input) << i;
  });
}
