#include <dusty/net/detail/block_pool.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

namespace {

using dusty::net::detail::block_pool;

TEST(block_pool, recycles_blocks_and_counts_them) {
  auto& pool = block_pool::local();
  std::size_t in_use = pool.in_use(), cached = pool.cached();
  std::byte* a = pool.get();
  a[0] = a[block_pool::block_size - 1] = std::byte{1};  // the whole block is ours
  EXPECT_EQ(pool.in_use(), in_use + 1);
  pool.put(a);
  EXPECT_EQ(pool.in_use(), in_use);
  EXPECT_GE(pool.cached(), 1u);
  std::byte* b = pool.get();
  EXPECT_EQ(b, a);  // last in, first out: the block still warm in cache
  pool.put(b);
  EXPECT_EQ(pool.cached(), std::max<std::size_t>(cached, 1));
}

TEST(block_pool, keeps_at_most_max_cached_free_blocks) {
  std::byte* held = block_pool::local().get();
  std::thread([] {
    auto& pool = block_pool::local();
    // Another thread (shard), another pool: nothing of the first thread's shows here.
    EXPECT_EQ(pool.in_use(), 0u);
    EXPECT_EQ(pool.cached(), 0u);
    std::vector<std::byte*> blocks;
    for (std::size_t i = 0; i < block_pool::max_cached + 10; ++i) blocks.push_back(pool.get());
    EXPECT_EQ(pool.in_use(), block_pool::max_cached + 10);
    for (auto* b : blocks) pool.put(b);
    EXPECT_EQ(pool.in_use(), 0u);
    EXPECT_EQ(pool.cached(), block_pool::max_cached);
  }).join();
  block_pool::local().put(held);
}

}  // namespace
