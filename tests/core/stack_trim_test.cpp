#include <dusty/core/detail/stack_trim.hpp>

#include <dusty/core/detail/stack_pool.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>

#include "support/support.hpp"

namespace {

using namespace std::chrono_literals;

std::uintptr_t page_of(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) & ~(static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE)) - 1);
}

bool resident(const void* p) {
  unsigned char v = 0;
  if (::mincore(reinterpret_cast<void*>(page_of(p)), 1, &v) != 0) throw std::runtime_error("mincore failed");
  return (v & 1) != 0;
}

bool resident(std::uintptr_t p) { return resident(reinterpret_cast<const void*>(p)); }

// Touches `depth` bytes of stack below the caller and returns the address of the deepest
// one; the pattern written is checked on the way back, so reused pages must work.
[[gnu::noinline]] std::uintptr_t go_deep(std::size_t depth) {
  volatile char buf[2048];
  for (std::size_t i = 0; i < sizeof buf; i += 64) buf[i] = static_cast<char>(i);
  std::uintptr_t deepest = depth > sizeof buf ? go_deep(depth - sizeof buf) : reinterpret_cast<std::uintptr_t>(&buf[0]);
  for (std::size_t i = 0; i < sizeof buf; i += 64)
    if (buf[i] != static_cast<char>(i)) throw std::runtime_error("stack contents changed");
  return deepest;
}

TEST(stack_pool, release_below_frees_only_the_pages_under_the_pointer) {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  dusty::detail::stack_pool pool(16 * page, 4);
  auto s = pool.allocate(0);
  char* top = static_cast<char*>(s.sp);
  char* bottom = top - s.size;
  std::memset(bottom, 1, s.size);
  char* sp = top - 5 * page + 100;  // a suspended fiber's saved stack pointer, say
  std::size_t released = pool.release_below(sp);
  EXPECT_EQ(released, s.size - 6 * page);  // the page holding sp - margin is kept whole
  EXPECT_FALSE(resident(bottom));
  EXPECT_FALSE(resident(top - 7 * page));
  EXPECT_TRUE(resident(top - 6 * page));
  EXPECT_TRUE(resident(top - 1));
  EXPECT_EQ(bottom[0], 0);  // released pages come back zero-filled
  EXPECT_EQ(top[-1], 1);
  int elsewhere = 0;
  EXPECT_EQ(pool.release_below(&elsewhere), 0u);  // not one of the pool's stacks
  pool.deallocate(s);
}

TEST(stack_trim, parked_fiber_gives_back_its_deep_pages_and_runs_on) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    std::uintptr_t deepest = 0;
    bool trimmed_seen = false;
    bool ready_to_trim = false;
    auto f = dusty::spawn([&] {
      deepest = go_deep(64 * 1024);
      EXPECT_TRUE(resident(deepest));
      ready_to_trim = true;
      dusty::release_memory_while_parked();
      dusty::sleep_for(200ms);  // parked: the helper trims now
      // Deep again on the released pages: they come back zeroed and work as before.
      EXPECT_EQ(go_deep(64 * 1024), deepest);
    });
    // Poll (bounded) until the helper has run: the deep page is gone while f sleeps.
    for (int i = 0; i < 100 && !trimmed_seen; ++i) {
      dusty::sleep_for(1ms);
      if (ready_to_trim) trimmed_seen = !resident(deepest);
    }
    EXPECT_TRUE(trimmed_seen);
    f.join();
  });
}

TEST(stack_trim, fiber_that_ends_before_the_helper_runs_is_safe) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    for (int i = 0; i < 8; ++i) {
      auto f = dusty::spawn([] {
        go_deep(16 * 1024);
        dusty::release_memory_while_parked();
      });
      f.join();
    }
    dusty::sleep_for(10ms);
  });
}

}  // namespace
