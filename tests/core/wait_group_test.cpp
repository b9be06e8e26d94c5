#include <dusty/core/wait_group.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/fiber.hpp>

#include <gtest/gtest.h>

#include "support/support.hpp"

#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(wait_group, wait_at_zero_returns_at_once) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::wait_group wg;
    wg.wait();
    EXPECT_EQ(wg.count(), 0u);
  });
}

TEST(wait_group, waits_for_every_fiber) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::wait_group wg;
    int finished = 0;
    for (int i = 0; i < 10; ++i) {
      wg.add();
      dusty::spawn([&, i] {
        dusty::sleep_for(std::chrono::microseconds(100 * (10 - i)));
        ++finished;
        wg.done();
      }).detach();
    }
    EXPECT_EQ(wg.count(), 10u);
    wg.wait();
    EXPECT_EQ(finished, 10);
    EXPECT_EQ(wg.count(), 0u);
  });
}

TEST(wait_group, releases_every_waiter) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::wait_group wg;
    wg.add(2);
    int released = 0;
    std::vector<dusty::fiber> waiters;
    for (int i = 0; i < 3; ++i)
      waiters.push_back(dusty::spawn([&] {
        wg.wait();
        ++released;
      }));
    dusty::yield();
    wg.done();
    dusty::yield();
    EXPECT_EQ(released, 0);
    wg.done();
    for (auto& f : waiters) f.join();
    EXPECT_EQ(released, 3);
  });
}

TEST(wait_group, waiter_released_at_zero_even_if_add_follows) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::wait_group wg;
    wg.add();
    bool released = false;
    auto w = dusty::spawn([&] {
      wg.wait();
      released = true;
    });
    dusty::yield();
    wg.done();
    wg.add();  // before w runs
    w.join();
    EXPECT_TRUE(released);
    EXPECT_EQ(wg.count(), 1u);
    wg.done();
  });
}

TEST(wait_group, done_below_zero_is_an_error) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::wait_group wg;
    EXPECT_THROW(wg.done(), std::logic_error);
    wg.add();
    wg.done();
    EXPECT_THROW(wg.done(), std::logic_error);
    EXPECT_EQ(wg.count(), 0u);
  });
}

TEST(wait_group, cancel_interrupts_wait) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::wait_group wg;
    wg.add();
    auto w = dusty::spawn([&] { wg.wait(); });
    dusty::yield();
    w.cancel();
    EXPECT_THROW(w.join(), dusty::cancelled_error);
    EXPECT_EQ(wg.count(), 1u);
    wg.done();
  });
}

TEST(wait_group, deadline_expiry_interrupts_wait) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::wait_group wg;
    wg.add();
    EXPECT_THROW(dusty::with_timeout(5ms, [&] { wg.wait(); }), dusty::timeout_error);
    wg.done();
    wg.wait();
  });
}

}  // namespace
