#pragma once
// mutex: mutual exclusion between the fibers of one shard.
//
//   dusty::mutex m;
//   {
//     std::lock_guard lock(m);      // suspends this fiber (not the thread) while taken
//     write_record(file);           // may suspend; no other fiber of ours interleaves
//   }
#include <dusty/core/wait_queue.hpp>

namespace dusty {

/// A lock that the fibers of one shard take in turn. Fibers of a shard never run in
/// parallel, so a mutex is needed only around a critical section that suspends (I/O,
/// sleep, another lock): it keeps other fibers out until the holder is done.
///
/// Fair: unlock() hands the lock straight to the longest-waiting fiber (FIFO), so a fiber
/// that arrives later cannot take it first and no waiter starves.
///
/// Single-shard: a mutex belongs to one shard, and every call must be made on that shard's
/// thread. It does not synchronise threads; to serialise work across shards, send the work
/// to one shard with submit_to. Meets the Lockable requirements, so std::lock_guard,
/// std::unique_lock and std::scoped_lock work with it.
class mutex {
 public:
  mutex() = default;
  /// The mutex must be unlocked, with no fiber waiting, when destroyed.
  ~mutex() = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  /// Takes the lock, suspending the calling fiber while another fiber holds it.
  /// Throws cancelled_error if the fiber is cancelled (or a deadline scope around it
  /// expires) before or while it waits; it then does not hold the lock. A fiber that was
  /// handed the lock and cancelled before it ran returns normally, holding the lock (the
  /// cancellation shows at its next wait). Call from a fiber. Not recursive.
  void lock();

  /// Takes the lock if it is free and nobody waits for it; never suspends, never throws.
  bool try_lock() noexcept;

  /// Releases the lock held by the calling fiber, handing it to the longest waiter if
  /// any. Never suspends.
  void unlock() noexcept;

  /// True while some fiber holds the lock.
  bool locked() const noexcept { return locked_; }

 private:
  wait_queue waiters_;
  bool locked_ = false;
};

}  // namespace dusty
