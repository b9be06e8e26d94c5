#include <dusty/core/fiber.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/runtime.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;

namespace {

dusty::runtime_config one_shard() {
  dusty::runtime_config c;
  c.shards = 1;
  c.handle_signals = false;
  return c;
}

TEST(fiber, spawn_and_join_run_in_order) {
  dusty::runtime rt(one_shard());
  std::vector<int> order;
  rt.run([&] {
    auto a = dusty::spawn([&] { order.push_back(1); dusty::yield(); order.push_back(3); });
    auto b = dusty::spawn([&] { order.push_back(2); });
    a.join();
    b.join();
  });
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(fiber, exception_reaches_join) {
  dusty::runtime rt(one_shard());
  rt.run([] {
    auto f = dusty::spawn([] { throw std::runtime_error("boom"); });
    EXPECT_THROW(f.join(), std::runtime_error);
  });
}

TEST(fiber, exception_from_main_reaches_run) {
  dusty::runtime rt(one_shard());
  EXPECT_THROW(rt.run([] { throw std::runtime_error("main failed"); }), std::runtime_error);
}

TEST(fiber, sleep_for_waits_at_least_the_duration) {
  dusty::runtime rt(one_shard());
  rt.run([] {
    auto start = std::chrono::steady_clock::now();
    dusty::sleep_for(20ms);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  });
}

TEST(fiber, cancel_wakes_a_sleeper) {
  dusty::runtime rt(one_shard());
  rt.run([] {
    auto f = dusty::spawn([] { dusty::sleep_for(1h); });
    dusty::yield();
    f.cancel();
    EXPECT_THROW(f.join(), dusty::cancelled_error);
  });
}

TEST(fiber, with_timeout_expires) {
  dusty::runtime rt(one_shard());
  rt.run([] {
    EXPECT_THROW(dusty::with_timeout(10ms, [] { dusty::sleep_for(1h); }), dusty::timeout_error);
    EXPECT_EQ(dusty::with_timeout(1h, [] { return 7; }), 7);
  });
}

}  // namespace
