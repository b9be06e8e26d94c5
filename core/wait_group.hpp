#pragma once
// wait_group: waits for a set of fibers (or any units of work) to finish, as Go's
// sync.WaitGroup does.
//
//   dusty::wait_group wg;
//   for (auto& c : conns) {
//     wg.add();
//     dusty::spawn([&wg, &c] { drain(c); wg.done(); }).detach();
//   }
//   wg.wait();                                    // until every drain() has called done()
#include <dusty/core/wait_queue.hpp>

#include <cstddef>

namespace dusty {

/// A counter of outstanding work and a place to wait for it to reach zero.
///
/// Single-shard: a wait_group belongs to one shard, and every call must be made on that
/// shard's thread. To wait for work on other shards, wait on their submit_to futures.
class wait_group {
 public:
  wait_group() = default;
  /// No fiber may be waiting when it is destroyed.
  ~wait_group() = default;
  wait_group(const wait_group&) = delete;
  wait_group& operator=(const wait_group&) = delete;

  /// Adds `n` units of outstanding work. Never suspends.
  void add(std::size_t n = 1) noexcept { count_ += n; }

  /// Marks one unit done; when the count reaches zero every waiting fiber is released.
  /// Throws std::logic_error if the count is already zero. Never suspends.
  void done();

  /// Suspends the calling fiber until the count is zero; returns at once if it is.
  /// A waiter is released when the count reaches zero, even if add() raises it again
  /// before the waiter runs. Throws cancelled_error if the fiber is cancelled (or a
  /// deadline scope around it expires) before or while it waits. Call from a fiber.
  void wait();

  /// Outstanding units.
  std::size_t count() const noexcept { return count_; }

 private:
  std::size_t count_ = 0;
  wait_queue waiters_;
};

}  // namespace dusty
