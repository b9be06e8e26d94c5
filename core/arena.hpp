#pragma once
// arena: a per-request bump allocator. Memory comes from a few large chunks, is never
// freed piece by piece, and is all given back at once by reset(), which keeps the chunks
// for the next request instead of returning them to the heap.
//
//   dusty::arena a;                                    // one per connection, say
//   std::pmr::vector<std::string_view> names(&a);      // any std::pmr container
//   std::pmr::string path("/users/", &a);
//   std::string_view host = a.copy(raw_host);          // outlives the receive buffer
//   ...
//   a.reset();                                         // between requests: O(chunks)
#include <cstddef>
#include <memory_resource>
#include <string_view>
#include <vector>

namespace dusty {

struct arena_config {
  /// Size of the first chunk, taken from the heap on the first allocation. Default: 4 KiB.
  std::size_t first_chunk_size = 4 * 1024;
  /// Each further chunk doubles the previous one, up to this size. A request larger than
  /// half of it gets a chunk of its own, which reset() always frees. Default: 64 KiB.
  std::size_t max_chunk_size = 64 * 1024;
  /// What reset() keeps: chunks in the order they were made, while their total stays
  /// within this; the first chunk is always kept. Default: 64 KiB.
  std::size_t retain_size = 64 * 1024;
};

/// A bump allocator that is also a std::pmr::memory_resource, so std::pmr containers and
/// strings can live in it. allocate() honours any power-of-two alignment; deallocate()
/// does nothing, and memory is reclaimed only by reset() or destruction. Destructors of
/// objects placed in the arena are not run by it.
///
/// Not thread-safe and never suspends: an arena belongs to one fiber (typically the one
/// serving a connection) and must not be shared across shards.
class arena final : public std::pmr::memory_resource {
 public:
  explicit arena(arena_config config = {});
  ~arena() override;
  arena(const arena&) = delete;
  arena& operator=(const arena&) = delete;

  /// Copies `s` into the arena; the view stays valid until reset() or destruction.
  std::string_view copy(std::string_view s);

  /// An allocator for std::pmr containers: std::pmr::vector<int> v(a.allocator<int>()).
  template <class T>
  std::pmr::polymorphic_allocator<T> allocator() noexcept {
    return std::pmr::polymorphic_allocator<T>(this);
  }

  /// Invalidates everything allocated so far and rewinds to the start of the first chunk.
  /// Keeps chunks up to arena_config::retain_size and frees the rest.
  void reset() noexcept;

  /// As reset(), and frees every chunk as well: for an owner about to sit idle (a
  /// connection waiting for its next request). The next allocation takes a first chunk
  /// from the heap again.
  void release() noexcept;

  /// Bytes handed out since construction or the last reset() (requested sizes).
  std::size_t allocated() const noexcept { return allocated_; }
  /// Bytes held in chunks, in use or kept for reuse.
  std::size_t reserved() const noexcept;
  /// Chunks held (regular and dedicated).
  std::size_t chunk_count() const noexcept { return chunks_.size() + large_.size(); }

 private:
  struct chunk {
    std::byte* data;
    std::size_t size;
  };

  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void*, std::size_t, std::size_t) noexcept override {}
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  void* bump(std::size_t bytes, std::size_t alignment) noexcept;
  void* allocate_slow(std::size_t bytes, std::size_t alignment);
  void open(std::size_t index) noexcept;
  static chunk new_chunk(std::size_t size);
  static void free_chunk(const chunk& c) noexcept;

  arena_config config_;
  std::vector<chunk> chunks_;  // regular chunks, oldest first
  std::vector<chunk> large_;   // one per oversized request
  std::size_t next_ = 0;       // index of the next regular chunk to bump from
  std::byte* ptr_ = nullptr;   // free space of the chunk being bumped: [ptr_, end_)
  std::byte* end_ = nullptr;
  std::size_t allocated_ = 0;
};

}  // namespace dusty
