#pragma once
// The per-shard timer structure: a binary min-heap of intrusive entries that know their
// own position, so arming and cancelling are O(log n) with no allocation per timer.
// It drives sleep_for, deadline scopes and the epoll backend's operation deadlines.
#include <chrono>
#include <cstddef>
#include <vector>

namespace dusty::detail {

using clock = std::chrono::steady_clock;

struct timer_entry {
  static constexpr std::size_t not_armed = static_cast<std::size_t>(-1);
  clock::time_point when{};
  std::size_t index = not_armed;
  void (*fire)(timer_entry*) = nullptr;  ///< Called on the shard's loop, not in a fiber.
  void* data = nullptr;                   ///< For fire().

  bool armed() const noexcept { return index != not_armed; }
};

class timer_heap {
 public:
  void add(timer_entry* t);
  void remove(timer_entry* t) noexcept;
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  clock::time_point next() const noexcept { return heap_.front()->when; }
  /// Fires every entry due at `now`; returns how many fired.
  std::size_t fire_expired(clock::time_point now);

 private:
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;
  void place(std::size_t i, timer_entry* t) noexcept { heap_[i] = t, t->index = i; }

  std::vector<timer_entry*> heap_;
};

}  // namespace dusty::detail
