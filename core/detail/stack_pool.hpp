#pragma once
// Fiber stacks: mmap'd, with a PROT_NONE guard page below each one so an overflow
// faults at once instead of corrupting a neighbour, and pooled per shard so spawning
// a fiber usually costs no system call. Pages are committed lazily by the kernel, so a
// parked fiber holds only the pages it has touched.
#include <boost/context/stack_context.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace dusty::detail {

class stack_pool {
 public:
  /// stack_size: usable bytes per stack (rounded up to pages); max_cached: how many freed
  /// stacks to keep for reuse before returning memory to the kernel.
  stack_pool(std::size_t stack_size, std::size_t max_cached);
  ~stack_pool();
  stack_pool(const stack_pool&) = delete;
  stack_pool& operator=(const stack_pool&) = delete;

  /// A stack of `size` usable bytes; sizes other than the pool's are not cached.
  boost::context::stack_context allocate(std::size_t size);
  void deallocate(boost::context::stack_context& sctx) noexcept;

  /// Gives the kernel back (madvise MADV_DONTNEED) the whole pages of the stack holding
  /// `sp` that lie more than release_margin bytes below `sp`; they read as zeros when
  /// touched again. Only for the saved stack pointer of a suspended fiber (or lower):
  /// everything below it is dead. Returns the bytes released (0 when `sp` is in no stack
  /// of this pool). Never suspends; one system call.
  std::size_t release_below(const void* sp) noexcept;

  /// Bytes kept below the stack pointer by release_below(): more than x86-64's 128-byte
  /// red zone, the only place a suspended frame may keep data under its stack pointer.
  static constexpr std::size_t release_margin = 256;

  /// Gives the kernel back the pages of the cached (free) stacks: all of them but the
  /// `warm` most recently freed, which keep their top `warm_bytes` (the depth most fibers
  /// run at) so that the next fibers spawned do not fault their first pages in again.
  /// A stack released whole is not released again while it stays in the cache. Returns
  /// the bytes released. Never suspends; one system call per stack it touches.
  std::size_t release_cached(std::size_t warm, std::size_t warm_bytes) noexcept;

  std::size_t stack_size() const noexcept { return stack_size_; }
  std::size_t cached() const noexcept { return free_.size(); }

 private:
  std::size_t stack_size_;
  std::size_t max_cached_;
  std::vector<boost::context::stack_context> free_;
  // free_[0, released_) have given all their pages back (stacks are taken from the back).
  std::size_t released_ = 0;
  // Every stack mapped and not yet unmapped, by the address of its top: usable size.
  // Changes only when a stack is mapped or unmapped, never when a cached one is reused.
  std::map<std::uintptr_t, std::size_t> mapped_;
};

/// The StackAllocator Boost.Context copies into each fiber: a pointer to the shard's pool.
struct pooled_stack_allocator {
  stack_pool* pool;
  std::size_t size;
  boost::context::stack_context* record = nullptr;  ///< If set, receives the stack's bounds.
  boost::context::stack_context allocate() {
    auto s = pool->allocate(size);
    if (record) *record = s;
    return s;
  }
  void deallocate(boost::context::stack_context& sctx) noexcept { pool->deallocate(sctx); }
};

}  // namespace dusty::detail
