#include <dusty/core/wait_queue.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/fiber.hpp>

#include <gtest/gtest.h>

#include "support/support.hpp"

#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(wait_queue, notify_one_wakes_in_fifo_order) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::wait_queue q;
    std::vector<int> order;
    std::vector<dusty::fiber> fibers;
    for (int i = 0; i < 4; ++i)
      fibers.push_back(dusty::spawn([&, i] {
        q.wait();
        order.push_back(i);
      }));
    dusty::yield();
    EXPECT_FALSE(q.empty());
    while (q.notify_one()) dusty::yield();
    for (auto& f : fibers) f.join();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_FALSE(q.notify_one());
  });
}

TEST(wait_queue, notify_all_wakes_everyone) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::wait_queue q;
    int woken = 0;
    std::vector<dusty::fiber> fibers;
    for (int i = 0; i < 5; ++i)
      fibers.push_back(dusty::spawn([&] {
        q.wait();
        ++woken;
      }));
    dusty::yield();
    EXPECT_EQ(q.notify_all(), 5u);
    for (auto& f : fibers) f.join();
    EXPECT_EQ(woken, 5);
    EXPECT_TRUE(q.empty());
  });
}

TEST(wait_queue, cancelled_waiter_leaves_the_queue) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::wait_queue q;
    auto a = dusty::spawn([&] { q.wait(); });
    auto b = dusty::spawn([&] { q.wait(); });
    dusty::yield();
    a.cancel();
    EXPECT_THROW(a.join(), dusty::cancelled_error);
    EXPECT_TRUE(q.notify_one());  // b, not the departed a
    b.join();
    EXPECT_TRUE(q.empty());
  });
}

TEST(wait_queue, notification_survives_a_later_cancel) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::wait_queue q;
    bool returned = false;
    auto a = dusty::spawn([&] {
      q.wait();
      returned = true;
    });
    dusty::yield();
    q.notify_one();
    a.cancel();
    a.join();  // no exception: it was notified before the cancel
    EXPECT_TRUE(returned);
  });
}

TEST(wait_queue, deadline_expiry_interrupts_wait) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::wait_queue q;
    EXPECT_THROW(dusty::with_timeout(5ms, [&] { q.wait(); }), dusty::timeout_error);
    EXPECT_TRUE(q.empty());
  });
}

}  // namespace
