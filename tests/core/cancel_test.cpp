// Cancellation of fibers (core/fiber.hpp): every kind of fiber wait wakes with
// cancelled_error. Waits on I/O, sync types and cross-core replies are covered in their
// own tests (reactor_test, mutex_test, ..., submit_to_test). fiber_test.cpp covers the
// basics of fibers.
#include <dusty/core/fiber.hpp>

#include <dusty/core/deadline.hpp>

#include <gtest/gtest.h>

#include "support/support.hpp"

#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(cancel, interrupts_join_but_not_the_joined_fiber) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    bool target_finished = false;
    auto target = dusty::spawn([&] {
      dusty::sleep_for(10ms);
      target_finished = true;
    });
    auto joiner = dusty::spawn([&] { target.join(); });
    dusty::yield();
    joiner.cancel();
    EXPECT_THROW(joiner.join(), dusty::cancelled_error);
    EXPECT_TRUE(target.joinable());
    target.join();  // it ran to the end
    EXPECT_TRUE(target_finished);
  });
}

TEST(cancel, interrupts_a_yield_loop) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    long spins = 0;
    auto spinner = dusty::spawn([&] {
      for (;;) {
        dusty::yield();
        ++spins;
      }
    });
    for (int i = 0; i < 3; ++i) dusty::yield();
    spinner.cancel();
    EXPECT_THROW(spinner.join(), dusty::cancelled_error);
    EXPECT_GE(spins, 2);
  });
}

TEST(cancel, interrupts_sleep_at_once) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    auto sleeper = dusty::spawn([] { dusty::sleep_for(1h); });
    dusty::yield();
    auto start = std::chrono::steady_clock::now();
    sleeper.cancel();
    EXPECT_THROW(sleeper.join(), dusty::cancelled_error);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  });
}

TEST(cancel, before_the_first_run_fails_the_first_wait) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    bool started = false;
    auto f = dusty::spawn([&] {
      started = true;
      EXPECT_TRUE(dusty::cancellation_pending());
      dusty::sleep_for(1h);
    });
    f.cancel();
    EXPECT_THROW(f.join(), dusty::cancelled_error);
    EXPECT_TRUE(started);
  });
}

TEST(cancel, is_sticky) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    int throws = 0;
    auto f = dusty::spawn([&] {
      for (int i = 0; i < 3; ++i) {
        try {
          dusty::sleep_for(1h);
        } catch (const dusty::cancelled_error&) {
          ++throws;
        }
      }
    });
    dusty::yield();
    f.cancel();
    f.join();
    EXPECT_EQ(throws, 3);
  });
}

TEST(cancel, of_a_finished_fiber_is_harmless) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    auto f = dusty::spawn([] {});
    for (int i = 0; i < 10 && !f.done(); ++i) dusty::yield();
    ASSERT_TRUE(f.done());
    f.cancel();
    f.join();
  });
}

TEST(cancel, ten_thousand_sleepers_at_once) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    int cancelled = 0;
    std::vector<dusty::fiber> fibers;
    for (int i = 0; i < 10'000; ++i)
      fibers.push_back(dusty::spawn([&] {
        try {
          dusty::sleep_for(1h);
        } catch (const dusty::cancelled_error&) {
          ++cancelled;
        }
      }));
    dusty::yield();
    for (auto& f : fibers) f.cancel();
    for (auto& f : fibers) f.join();
    EXPECT_EQ(cancelled, 10'000);
  });
}

}  // namespace
