#include <dusty/core/semaphore.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/fiber.hpp>

#include <gtest/gtest.h>

#include "support/support.hpp"

#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(semaphore, counts_units) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::semaphore s(3);
    EXPECT_EQ(s.available(), 3u);
    EXPECT_TRUE(s.try_acquire(2));
    EXPECT_FALSE(s.try_acquire(2));
    EXPECT_TRUE(s.try_acquire());
    EXPECT_EQ(s.available(), 0u);
    s.release(3);
    s.acquire(3);
    EXPECT_EQ(s.available(), 0u);
    s.release(3);
  });
}

TEST(semaphore, acquire_waits_for_release) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::semaphore s(0);
    bool got = false;
    auto w = dusty::spawn([&] {
      s.acquire(2);
      got = true;
    });
    dusty::yield();
    EXPECT_EQ(s.waiters(), 1u);
    s.release(1);
    dusty::yield();
    EXPECT_FALSE(got);
    s.release(1);
    w.join();
    EXPECT_TRUE(got);
    EXPECT_EQ(s.available(), 0u);
    EXPECT_EQ(s.waiters(), 0u);
  });
}

TEST(semaphore, large_request_at_the_head_is_not_starved) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::semaphore s(0);
    std::vector<int> order;
    auto big = dusty::spawn([&] {
      s.acquire(3);
      order.push_back(3);
    });
    dusty::yield();
    auto small = dusty::spawn([&] {
      s.acquire(1);
      order.push_back(1);
    });
    dusty::yield();
    s.release(1);  // enough for small, but big is first in line
    dusty::yield();
    EXPECT_TRUE(order.empty());
    EXPECT_FALSE(s.try_acquire(1));  // and try_acquire does not jump the queue either
    s.release(2);
    big.join();
    EXPECT_EQ(order, (std::vector<int>{3}));
    s.release(1);
    small.join();
    EXPECT_EQ(order, (std::vector<int>{3, 1}));
  });
}

TEST(semaphore, release_serves_several_waiters_in_order) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::semaphore s(0);
    std::vector<int> order;
    std::vector<dusty::fiber> fibers;
    for (int i = 0; i < 5; ++i)
      fibers.push_back(dusty::spawn([&, i] {
        s.acquire(1);
        order.push_back(i);
      }));
    dusty::yield();
    s.release(5);
    for (auto& f : fibers) f.join();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  });
}

TEST(semaphore, cancelled_head_waiter_lets_the_next_through) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::semaphore s(1);
    auto big = dusty::spawn([&] { s.acquire(2); });
    dusty::yield();
    bool small_got = false;
    auto small = dusty::spawn([&] {
      s.acquire(1);
      small_got = true;
    });
    dusty::yield();
    EXPECT_FALSE(small_got);
    big.cancel();
    EXPECT_THROW(big.join(), dusty::cancelled_error);
    small.join();
    EXPECT_TRUE(small_got);
    EXPECT_EQ(s.available(), 0u);  // the cancelled waiter took nothing
    s.release(1);
  });
}

TEST(semaphore, deadline_expiry_interrupts_acquire_without_taking_units) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::semaphore s(1);
    EXPECT_THROW(dusty::with_timeout(5ms, [&] { s.acquire(2); }), dusty::timeout_error);
    EXPECT_EQ(s.available(), 1u);
    EXPECT_EQ(s.waiters(), 0u);
    s.acquire(1);
  });
}

TEST(semaphore, units_handed_to_a_fiber_cancelled_before_it_runs_are_not_lost) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::semaphore s(0);
    bool got = false;
    auto w = dusty::spawn([&] {
      auto units = dusty::get_units(s, 2);
      got = true;
      dusty::yield();  // the cancellation shows here; the guard gives the units back
    });
    dusty::yield();
    s.release(2);  // handed to w
    w.cancel();
    EXPECT_THROW(w.join(), dusty::cancelled_error);
    EXPECT_TRUE(got);
    EXPECT_EQ(s.available(), 2u);
  });
}

TEST(semaphore, cancelled_fiber_cannot_acquire) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::semaphore s(5);
    auto w = dusty::spawn([&] { s.acquire(1); });
    w.cancel();
    EXPECT_THROW(w.join(), dusty::cancelled_error);
    EXPECT_EQ(s.available(), 5u);
  });
}

TEST(semaphore, units_guard_releases_moves_and_releases_early) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::semaphore s(4);
    {
      auto a = dusty::get_units(s, 3);
      EXPECT_EQ(a.count(), 3u);
      EXPECT_EQ(s.available(), 1u);
      auto b = std::move(a);
      EXPECT_EQ(a.count(), 0u);
      EXPECT_EQ(s.available(), 1u);
      EXPECT_FALSE(dusty::try_get_units(s, 2));
      auto c = dusty::try_get_units(s, 1);
      ASSERT_TRUE(c);
      EXPECT_EQ(s.available(), 0u);
      EXPECT_EQ(b.release(), 3u);
      EXPECT_EQ(b.release(), 0u);
      EXPECT_EQ(s.available(), 3u);
      b = std::move(*c);  // b held nothing; now holds c's unit
      EXPECT_EQ(s.available(), 3u);
    }
    EXPECT_EQ(s.available(), 4u);
  });
}

TEST(semaphore, bounds_concurrency) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::semaphore s(3);
    int running = 0;
    int peak = 0;
    std::vector<dusty::fiber> fibers;
    for (int i = 0; i < 20; ++i)
      fibers.push_back(dusty::spawn([&] {
        auto units = dusty::get_units(s);
        peak = std::max(peak, ++running);
        dusty::sleep_for(100us);
        --running;
      }));
    for (auto& f : fibers) f.join();
    EXPECT_EQ(peak, 3);
    EXPECT_EQ(s.available(), 3u);
  });
}

}  // namespace
