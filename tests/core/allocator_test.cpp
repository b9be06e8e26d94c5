// The process allocator: mimalloc, when the build links it (DUSTY_MIMALLOC, off under
// sanitizers, which bring their own allocator). There is no header for this; it is a
// property of linking dusty::core.
#if defined(DUSTY_MIMALLOC)

#include <dusty/core/runtime.hpp>
#include <dusty/core/submit_to.hpp>

#include <gtest/gtest.h>

#include "support/support.hpp"

#include <mimalloc.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace {

TEST(allocator, mimalloc_serves_malloc_and_new) {
  void* p = std::malloc(16);
  std::memset(p, 0, 16);
  EXPECT_TRUE(mi_is_in_heap_region(p));
  std::free(p);
  auto q = std::make_unique<std::string>(100, 'x');
  EXPECT_TRUE(mi_is_in_heap_region(q.get()));
  EXPECT_TRUE(mi_is_in_heap_region(q->data()));
}

TEST(allocator, mimalloc_serves_every_shard) {
  dusty::runtime rt(dusty::test::shards(2));
  rt.run([] {
    for (unsigned s = 0; s < dusty::shard_count(); ++s) {
      bool ours = dusty::submit_to(s, [] {
        void* p = std::malloc(64);
        std::memset(p, 0, 64);
        bool r = mi_is_in_heap_region(p);
        std::free(p);
        return r;
      }).get();
      EXPECT_TRUE(ours) << "shard " << s;
    }
  });
}

}  // namespace

#endif
