#pragma once
// Fixed-size memory blocks for stream buffers, recycled through a free list per thread
// (so per shard: no locks). buffered_stream returns its blocks whenever its buffers
// run empty, so an idle connection holds none; the free list keeps a bounded number
// for the next busy connection.
#include <cstddef>
#include <vector>

namespace dusty::net::detail {

class block_pool {
 public:
  /// Bytes per block. Matches the default io_uring provided-buffer size, so one lazy
  /// receive fills at most one block.
  static constexpr std::size_t block_size = 4096;
  /// Free blocks kept per thread; more are returned to the allocator. 1 MiB per shard.
  static constexpr std::size_t max_cached = 256;

  /// The calling thread's pool.
  static block_pool& local() noexcept;

  std::byte* get();
  void put(std::byte* block) noexcept;

  /// Blocks handed out by get() and not yet put back, on this thread.
  std::size_t in_use() const noexcept { return in_use_; }
  /// Blocks waiting in the free list.
  std::size_t cached() const noexcept { return free_.size(); }

  block_pool() { free_.reserve(max_cached); }
  block_pool(const block_pool&) = delete;
  block_pool& operator=(const block_pool&) = delete;
  ~block_pool();

 private:
  std::vector<std::byte*> free_;
  std::size_t in_use_ = 0;
};

}  // namespace dusty::net::detail
