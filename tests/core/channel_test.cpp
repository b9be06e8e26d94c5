#include <dusty/core/channel.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/fiber.hpp>

#include <gtest/gtest.h>

#include "support/support.hpp"

#include <memory>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(channel, zero_capacity_is_rejected) {
  EXPECT_THROW(dusty::channel<int>(0), std::invalid_argument);
}

TEST(channel, delivers_in_order_through_the_buffer) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::channel<int> ch(3);
    EXPECT_EQ(ch.capacity(), 3u);
    EXPECT_TRUE(ch.send(1));
    EXPECT_TRUE(ch.send(2));
    EXPECT_TRUE(ch.send(3));
    EXPECT_EQ(ch.size(), 3u);
    EXPECT_EQ(ch.receive(), 1);
    EXPECT_EQ(ch.receive(), 2);
    EXPECT_EQ(ch.receive(), 3);
    EXPECT_TRUE(ch.empty());
  });
}

TEST(channel, send_waits_while_full) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::channel<int> ch(2);
    int sent = 0;
    auto producer = dusty::spawn([&] {
      for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(ch.send(i));
        ++sent;
      }
    });
    dusty::yield();
    EXPECT_EQ(sent, 2);  // the third send waits
    EXPECT_EQ(ch.size(), 2u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(ch.receive(), i);
    producer.join();
    EXPECT_EQ(sent, 5);
  });
}

TEST(channel, waiting_receivers_are_served_in_arrival_order) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::channel<int> ch(1);
    std::vector<std::pair<int, int>> got;  // (receiver, value)
    std::vector<dusty::fiber> receivers;
    for (int r = 0; r < 3; ++r)
      receivers.push_back(dusty::spawn([&, r] { got.emplace_back(r, *ch.receive()); }));
    dusty::yield();
    for (int v = 10; v < 13; ++v) EXPECT_TRUE(ch.send(v));  // each handed straight over
    EXPECT_TRUE(ch.empty());
    for (auto& f : receivers) f.join();
    EXPECT_EQ(got, (std::vector<std::pair<int, int>>{{0, 10}, {1, 11}, {2, 12}}));
  });
}

TEST(channel, close_drains_buffer_then_ends) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::channel<int> ch(4);
    EXPECT_TRUE(ch.send(1));
    EXPECT_TRUE(ch.send(2));
    ch.close();
    ch.close();  // idempotent
    EXPECT_TRUE(ch.closed());
    auto r = ch.send(3);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), dusty::errc::closed);
    EXPECT_EQ(ch.receive(), 1);
    EXPECT_EQ(ch.receive(), 2);
    EXPECT_EQ(ch.receive(), std::nullopt);
    EXPECT_EQ(ch.receive(), std::nullopt);
  });
}

TEST(channel, close_wakes_waiting_receivers_with_nullopt) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::channel<int> ch(1);
    int ended = 0;
    std::vector<dusty::fiber> receivers;
    for (int r = 0; r < 3; ++r)
      receivers.push_back(dusty::spawn([&] {
        if (!ch.receive()) ++ended;
      }));
    dusty::yield();
    ch.close();
    for (auto& f : receivers) f.join();
    EXPECT_EQ(ended, 3);
  });
}

TEST(channel, close_fails_waiting_senders_and_drops_their_values) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::channel<std::shared_ptr<int>> ch(1);
    EXPECT_TRUE(ch.send(std::make_shared<int>(1)));
    std::weak_ptr<int> watch;
    std::error_code result;
    auto sender = dusty::spawn([&] {
      auto v = std::make_shared<int>(2);
      watch = v;
      auto r = ch.send(std::move(v));
      if (!r) result = r.error();
    });
    dusty::yield();
    ch.close();
    sender.join();
    EXPECT_EQ(result, dusty::errc::closed);
    EXPECT_TRUE(watch.expired());
    auto first = ch.receive();
    ASSERT_TRUE(first);
    EXPECT_EQ(**first, 1);  // the buffered value still drains
    EXPECT_EQ(ch.receive(), std::nullopt);
  });
}

TEST(channel, cancelled_receiver_takes_nothing) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::channel<int> ch(1);
    auto r = dusty::spawn([&] { ch.receive(); });
    dusty::yield();
    r.cancel();
    EXPECT_THROW(r.join(), dusty::cancelled_error);
    EXPECT_TRUE(ch.send(7));
    EXPECT_EQ(ch.size(), 1u);  // buffered, not handed to the departed receiver
    EXPECT_EQ(ch.try_receive(), 7);
  });
}

TEST(channel, cancelled_sender_sends_nothing) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::channel<int> ch(1);
    EXPECT_TRUE(ch.send(1));
    auto s = dusty::spawn([&] { (void)ch.send(2); });
    dusty::yield();
    s.cancel();
    EXPECT_THROW(s.join(), dusty::cancelled_error);
    EXPECT_EQ(ch.receive(), 1);
    EXPECT_TRUE(ch.empty());
    EXPECT_EQ(ch.try_receive(), std::nullopt);
  });
}

TEST(channel, value_handed_to_a_receiver_cancelled_before_it_runs_is_returned) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::channel<int> ch(1);
    std::optional<int> got;
    auto r = dusty::spawn([&] {
      got = ch.receive();
      dusty::yield();  // the cancellation shows here
    });
    dusty::yield();
    EXPECT_TRUE(ch.send(42));  // handed to r
    r.cancel();
    EXPECT_THROW(r.join(), dusty::cancelled_error);
    EXPECT_EQ(got, 42);
    EXPECT_TRUE(ch.empty());
  });
}

TEST(channel, sender_whose_value_was_taken_before_cancel_returns_success) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::channel<int> ch(1);
    EXPECT_TRUE(ch.send(1));
    bool ok = false;
    auto s = dusty::spawn([&] {
      ok = ch.send(2).has_value();
      dusty::yield();
    });
    dusty::yield();
    EXPECT_EQ(ch.receive(), 1);  // moves 2 into the buffer
    s.cancel();
    EXPECT_THROW(s.join(), dusty::cancelled_error);
    EXPECT_TRUE(ok);
    EXPECT_EQ(ch.try_receive(), 2);
  });
}

TEST(channel, deadline_expiry_interrupts_send_and_receive) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::channel<int> ch(1);
    EXPECT_THROW(dusty::with_timeout(5ms, [&] { return ch.receive(); }), dusty::timeout_error);
    EXPECT_TRUE(ch.send(1));
    EXPECT_THROW(dusty::with_timeout(5ms, [&] { return ch.send(2); }), dusty::timeout_error);
    EXPECT_EQ(ch.try_receive(), 1);
    EXPECT_EQ(ch.try_receive(), std::nullopt);
  });
}

TEST(channel, cancelled_fiber_cannot_send_or_receive) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::channel<int> ch(2);
    EXPECT_TRUE(ch.send(1));
    auto r = dusty::spawn([&] { ch.receive(); });
    auto s = dusty::spawn([&] { (void)ch.send(2); });
    r.cancel();
    s.cancel();
    EXPECT_THROW(r.join(), dusty::cancelled_error);
    EXPECT_THROW(s.join(), dusty::cancelled_error);
    EXPECT_EQ(ch.size(), 1u);
  });
}

TEST(channel, try_send_and_try_receive_never_wait) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::channel<std::unique_ptr<int>> ch(1);
    EXPECT_EQ(ch.try_receive(), std::nullopt);
    auto a = std::make_unique<int>(1);
    auto b = std::make_unique<int>(2);
    EXPECT_TRUE(ch.try_send(std::move(a)));
    EXPECT_EQ(a, nullptr);
    EXPECT_FALSE(ch.try_send(std::move(b)));  // full: b is left alone
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(**ch.try_receive(), 1);
    ch.close();
    EXPECT_FALSE(ch.try_send(std::move(b)));  // closed
    EXPECT_NE(b, nullptr);
  });
}

TEST(channel, many_producers_and_consumers_lose_nothing) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    constexpr int producers = 4, per_producer = 2000, consumers = 3;
    dusty::channel<int> ch(8);
    std::vector<int> seen(producers * per_producer, 0);
    bool in_order = true;  // each consumer sees each producer's values in sending order
    std::vector<dusty::fiber> ps, cs;
    for (int p = 0; p < producers; ++p)
      ps.push_back(dusty::spawn([&, p] {
        for (int i = 0; i < per_producer; ++i) {
          ASSERT_TRUE(ch.send(p * per_producer + i));
          if (i % 7 == 0) dusty::yield();
        }
      }));
    for (int c = 0; c < consumers; ++c)
      cs.push_back(dusty::spawn([&] {
        std::vector<int> last(producers, -1);
        while (auto v = ch.receive()) {
          ++seen[static_cast<std::size_t>(*v)];
          auto& l = last[static_cast<std::size_t>(*v / per_producer)];
          if (*v <= l) in_order = false;
          l = *v;
          if (*v % 5 == 0) dusty::yield();
        }
      }));
    for (auto& f : ps) f.join();
    ch.close();
    for (auto& f : cs) f.join();
    EXPECT_TRUE(in_order);
    for (int n : seen) ASSERT_EQ(n, 1);
  });
}

}  // namespace
