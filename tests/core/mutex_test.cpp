#include <dusty/core/mutex.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/fiber.hpp>

#include <gtest/gtest.h>

#include "support/support.hpp"

#include <mutex>
#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(mutex, try_lock_and_unlock) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::mutex m;
    EXPECT_FALSE(m.locked());
    EXPECT_TRUE(m.try_lock());
    EXPECT_TRUE(m.locked());
    EXPECT_FALSE(m.try_lock());
    m.unlock();
    EXPECT_FALSE(m.locked());
    m.lock();
    EXPECT_TRUE(m.locked());
    m.unlock();
  });
}

TEST(mutex, excludes_fibers_across_suspension) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::mutex m;
    int inside = 0;
    int max_inside = 0;
    int entries = 0;
    std::vector<dusty::fiber> fibers;
    for (int i = 0; i < 8; ++i)
      fibers.push_back(dusty::spawn([&] {
        for (int round = 0; round < 5; ++round) {
          std::lock_guard lock(m);
          ++entries;
          max_inside = std::max(max_inside, ++inside);
          dusty::sleep_for(100us);
          dusty::yield();
          --inside;
        }
      }));
    for (auto& f : fibers) f.join();
    EXPECT_EQ(max_inside, 1);
    EXPECT_EQ(entries, 40);
    EXPECT_FALSE(m.locked());
  });
}

TEST(mutex, hands_off_in_fifo_order_without_barging) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::mutex m;
    std::vector<int> order;
    m.lock();
    auto waiter = [&](int id) {
      return dusty::spawn([&, id] {
        std::unique_lock lock(m);
        order.push_back(id);
      });
    };
    auto a = waiter(1);
    auto b = waiter(2);
    dusty::yield();  // a and b are now queued
    m.unlock();      // handed to a, which has not run yet
    EXPECT_TRUE(m.locked());
    EXPECT_FALSE(m.try_lock());  // no barging past a
    auto c = waiter(3);
    a.join();
    b.join();
    c.join();
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
    EXPECT_FALSE(m.locked());
  });
}

TEST(mutex, works_with_scoped_lock_of_two) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::mutex a, b;
    {
      std::scoped_lock lock(a, b);
      EXPECT_TRUE(a.locked());
      EXPECT_TRUE(b.locked());
    }
    EXPECT_FALSE(a.locked());
    EXPECT_FALSE(b.locked());
  });
}

TEST(mutex, cancelled_waiter_leaves_and_does_not_get_the_lock) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::mutex m;
    std::vector<int> order;
    m.lock();
    auto waiter = [&](int id) {
      return dusty::spawn([&, id] {
        std::lock_guard lock(m);
        order.push_back(id);
      });
    };
    auto a = waiter(1);
    auto b = waiter(2);
    auto c = waiter(3);
    dusty::yield();
    b.cancel();
    EXPECT_THROW(b.join(), dusty::cancelled_error);
    EXPECT_TRUE(m.locked());  // still ours
    m.unlock();
    a.join();
    c.join();
    EXPECT_EQ(order, (std::vector<int>{1, 3}));
    EXPECT_FALSE(m.locked());
  });
}

TEST(mutex, cancelled_only_waiter_leaves_mutex_free_after_unlock) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::mutex m;
    m.lock();
    auto w = dusty::spawn([&] { m.lock(); });
    dusty::yield();
    w.cancel();
    EXPECT_THROW(w.join(), dusty::cancelled_error);
    m.unlock();
    EXPECT_FALSE(m.locked());
  });
}

TEST(mutex, deadline_expiry_interrupts_lock) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::mutex m;
    m.lock();
    auto w = dusty::spawn([&] { EXPECT_THROW(dusty::with_timeout(5ms, [&] { m.lock(); }), dusty::timeout_error); });
    w.join();
    EXPECT_TRUE(m.locked());
    m.unlock();
    EXPECT_FALSE(m.locked());
  });
}

TEST(mutex, lock_handed_to_a_fiber_cancelled_before_it_runs_is_kept) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::mutex m;
    bool got = false;
    m.lock();
    auto w = dusty::spawn([&] {
      std::lock_guard lock(m);
      got = true;
      dusty::yield();  // the cancellation shows here
    });
    dusty::yield();
    m.unlock();  // hands the lock to w
    w.cancel();  // too late to take it back
    EXPECT_THROW(w.join(), dusty::cancelled_error);
    EXPECT_TRUE(got);
    EXPECT_FALSE(m.locked());
  });
}

TEST(mutex, cancelled_fiber_cannot_lock_even_a_free_mutex) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::mutex m;
    auto w = dusty::spawn([&] { m.lock(); });
    w.cancel();  // before it first runs
    EXPECT_THROW(w.join(), dusty::cancelled_error);
    EXPECT_FALSE(m.locked());
  });
}

}  // namespace
