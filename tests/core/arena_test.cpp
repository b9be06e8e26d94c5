#include <dusty/core/arena.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory_resource>
#include <string>
#include <vector>

namespace {

bool aligned(const void* p, std::size_t a) { return reinterpret_cast<std::uintptr_t>(p) % a == 0; }

TEST(arena, allocations_are_aligned_and_disjoint) {
  dusty::arena a({.first_chunk_size = 1024, .max_chunk_size = 8192, .retain_size = 8192});
  struct block {
    unsigned char* p;
    std::size_t n;
    unsigned char fill;
  };
  std::vector<block> blocks;
  for (int i = 0; i < 500; ++i) {
    std::size_t align = std::size_t{1} << (i % 13);  // 1 .. 4096
    std::size_t n = static_cast<std::size_t>(i * 37 % 300);
    auto* p = static_cast<unsigned char*>(a.allocate(n, align));
    ASSERT_TRUE(aligned(p, align)) << "align " << align;
    auto fill = static_cast<unsigned char>(i);
    std::memset(p, fill, n);  // ASan flags a block that overruns its chunk
    blocks.push_back({p, n, fill});
  }
  for (auto& b : blocks)
    for (std::size_t k = 0; k < b.n; ++k) ASSERT_EQ(b.p[k], b.fill);
}

TEST(arena, zero_byte_allocations_are_distinct) {
  dusty::arena a;
  void* p = a.allocate(0, 1);
  void* q = a.allocate(0, 1);
  EXPECT_NE(p, q);
}

TEST(arena, first_chunk_has_the_configured_size) {
  dusty::arena a({.first_chunk_size = 2048});
  EXPECT_EQ(a.reserved(), 0u);  // nothing until the first allocation
  (void)a.allocate(10);
  EXPECT_EQ(a.reserved(), 2048u);
  EXPECT_EQ(a.chunk_count(), 1u);
  EXPECT_EQ(a.allocated(), 10u);
}

TEST(arena, chunks_grow_and_stay_within_the_maximum) {
  dusty::arena a({.first_chunk_size = 1024, .max_chunk_size = 4096, .retain_size = 0});
  for (int i = 0; i < 100; ++i) (void)a.allocate(1000, 8);
  // 1024, 2048, then 4096 each: 1 + 2 + 4 per 4 KiB chunk.
  EXPECT_GE(a.chunk_count(), 26u);
  EXPECT_LE(a.reserved(), 1024u + 2048u + 4096u * 30);
}

TEST(arena, pmr_containers_live_in_it) {
  dusty::arena a({.first_chunk_size = 256});
  std::pmr::vector<int> v(a.allocator<int>());
  for (int i = 0; i < 1000; ++i) v.push_back(i);
  const char* text = "a string long enough to need the heap, not the small buffer";
  std::pmr::string s(text, &a);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(v[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(s, text);
  EXPECT_EQ(s.get_allocator().resource(), &a);
  EXPECT_GE(a.allocated(), 1000 * sizeof(int));
  EXPECT_GT(a.chunk_count(), 1u);
  EXPECT_TRUE(a.is_equal(a));
  dusty::arena other;
  EXPECT_FALSE(a.is_equal(other));
}

TEST(arena, deallocate_is_a_no_op) {
  dusty::arena a;
  void* p = a.allocate(64);
  a.deallocate(p, 64);
  void* q = a.allocate(64);
  EXPECT_NE(p, q);
  EXPECT_EQ(a.allocated(), 128u);
}

TEST(arena, copy_outlives_its_source) {
  dusty::arena a;
  std::string src = "Host: example.com";
  std::string_view kept = a.copy(src);
  src.assign(src.size(), 'x');
  EXPECT_EQ(kept, "Host: example.com");
  EXPECT_TRUE(a.copy("").empty());
}

TEST(arena, reset_rewinds_into_the_same_memory) {
  dusty::arena a({.first_chunk_size = 4096});
  void* first = a.allocate(100, 16);
  (void)a.allocate(200);
  a.reset();
  EXPECT_EQ(a.allocated(), 0u);
  EXPECT_EQ(a.reserved(), 4096u);
  EXPECT_EQ(a.allocate(100, 16), first);
}

TEST(arena, reset_keeps_chunks_up_to_the_retain_size) {
  dusty::arena a({.first_chunk_size = 1024, .max_chunk_size = 1024, .retain_size = 3 * 1024});
  for (int i = 0; i < 20; ++i) (void)a.allocate(500);  // two per chunk
  EXPECT_EQ(a.chunk_count(), 10u);
  a.reset();
  EXPECT_EQ(a.chunk_count(), 3u);
  EXPECT_EQ(a.reserved(), 3u * 1024);
  // The kept chunks are reused before any new one is made.
  for (int i = 0; i < 6; ++i) (void)a.allocate(500);
  EXPECT_EQ(a.chunk_count(), 3u);
  (void)a.allocate(500);
  EXPECT_EQ(a.chunk_count(), 4u);
}

TEST(arena, reset_always_keeps_the_first_chunk) {
  dusty::arena a({.first_chunk_size = 8192, .retain_size = 0});
  (void)a.allocate(10);
  (void)a.allocate(8190);  // does not fit in what is left of the first chunk
  EXPECT_EQ(a.chunk_count(), 2u);
  a.reset();
  EXPECT_EQ(a.chunk_count(), 1u);
  EXPECT_EQ(a.reserved(), 8192u);
}

TEST(arena, large_request_gets_its_own_chunk_freed_by_reset) {
  dusty::arena a({.first_chunk_size = 4096, .max_chunk_size = 16384});
  auto* small1 = static_cast<char*>(a.allocate(16, 1));
  auto* big = static_cast<char*>(a.allocate(100'000, 64));
  EXPECT_TRUE(aligned(big, 64));
  std::memset(big, 0xab, 100'000);
  EXPECT_EQ(a.chunk_count(), 2u);
  EXPECT_GE(a.reserved(), 4096u + 100'000u);
  // The current chunk is still used after the big one.
  auto* small2 = static_cast<char*>(a.allocate(16, 1));
  EXPECT_EQ(small2, small1 + 16);
  a.reset();
  EXPECT_EQ(a.chunk_count(), 1u);
  EXPECT_EQ(a.reserved(), 4096u);
}

TEST(arena, over_aligned_request_in_a_fresh_chunk_fits) {
  dusty::arena a({.first_chunk_size = 64, .max_chunk_size = 64 * 1024});
  for (std::size_t align = 64; align <= 8192; align *= 2) {
    void* p = a.allocate(align, align);
    ASSERT_TRUE(aligned(p, align));
    std::memset(p, 1, align);
  }
}

TEST(arena, release_frees_every_chunk_and_allocates_again) {
  dusty::arena a;
  (void)a.allocate(100);
  (void)a.allocate(40'000);  // a dedicated chunk
  EXPECT_GT(a.chunk_count(), 0u);
  a.release();
  EXPECT_EQ(a.chunk_count(), 0u);
  EXPECT_EQ(a.reserved(), 0u);
  EXPECT_EQ(a.copy("again"), "again");
  EXPECT_EQ(a.chunk_count(), 1u);
}

}  // namespace
