#include <dusty/core/detail/spsc_queue.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <thread>

namespace {

using dusty::detail::spsc_queue;

TEST(spsc_queue, fills_to_capacity_and_drains_in_order) {
  spsc_queue<int> q(8);
  EXPECT_TRUE(q.empty());
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(q.push(i));
  EXPECT_FALSE(q.push(8));
  for (int i = 0; i < 8; ++i) {
    int v = -1;
    EXPECT_TRUE(q.pop(v));
    EXPECT_EQ(v, i);
  }
  int v;
  EXPECT_FALSE(q.pop(v));
  EXPECT_TRUE(q.empty());
}

TEST(spsc_queue, wraps_around) {
  spsc_queue<int> q(4);
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 1000; ++round) {
    for (int k = 0; k < 3; ++k) ASSERT_TRUE(q.push(next_in++));
    for (int k = 0; k < 3; ++k) {
      int v;
      ASSERT_TRUE(q.pop(v));
      ASSERT_EQ(v, next_out++);
    }
  }
  EXPECT_TRUE(q.empty());
}

TEST(spsc_queue, two_threads_pass_every_item_in_order) {
  constexpr std::uint64_t count = 1'000'000;
  spsc_queue<std::uint64_t> q(1024);
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::thread producer([&] {
    for (std::uint64_t i = 1; i <= count;) {
      if (q.push(i))
        ++i;
      else if (std::chrono::steady_clock::now() > give_up)
        return;
      else
        std::this_thread::yield();
    }
  });
  std::uint64_t expected = 1;
  bool in_order = true;
  while (expected <= count && std::chrono::steady_clock::now() < give_up) {
    std::uint64_t v;
    if (!q.pop(v)) {
      std::this_thread::yield();
      continue;
    }
    if (v != expected) in_order = false;
    ++expected;
  }
  producer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(expected, count + 1);
  EXPECT_TRUE(q.empty());
}

}  // namespace
