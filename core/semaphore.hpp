#pragma once
// semaphore: a count of units that the fibers of one shard take and give back, to bound
// concurrency (in-flight requests, open connections, bytes buffered).
//
//   dusty::semaphore slots(64);
//   auto units = dusty::get_units(slots, 1);   // suspends while all 64 are taken
//   serve(conn);                               // units go back when `units` is destroyed
#include <dusty/core/detail/waiter_list.hpp>

#include <cstddef>
#include <optional>
#include <utility>

namespace dusty {

/// A counting semaphore for the fibers of one shard.
///
/// Fair: waiters are served strictly in arrival order. A request for many units at the
/// head of the queue holds back smaller requests behind it until it is satisfied, so it
/// is never starved by a stream of small ones; try_acquire() does not jump the queue.
///
/// Single-shard: a semaphore belongs to one shard, and every call must be made on that
/// shard's thread. To share a limit across shards, keep it on one shard and reach it
/// with submit_to, or give each shard its own share.
class semaphore {
 public:
  /// Starts with `units` available.
  explicit semaphore(std::size_t units) noexcept : units_(units) {}
  /// No fiber may be waiting when it is destroyed.
  ~semaphore() = default;
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;

  /// Takes `n` units, suspending the calling fiber until they are available and every
  /// earlier waiter has been served. Throws cancelled_error if the fiber is cancelled (or
  /// a deadline scope around it expires) before or while it waits; it then has taken
  /// nothing, and the waiters behind it move up. A fiber that was handed its units and
  /// cancelled before it ran returns normally, owning them (the cancellation shows at its
  /// next wait). Call from a fiber.
  void acquire(std::size_t n = 1);

  /// Takes `n` units if they are available and nobody waits; never suspends or throws.
  bool try_acquire(std::size_t n = 1) noexcept;

  /// Gives back `n` units and hands them to waiters in order. Never suspends.
  void release(std::size_t n = 1) noexcept;

  /// Units not taken.
  std::size_t available() const noexcept { return units_; }
  /// Fibers waiting in acquire().
  std::size_t waiters() const noexcept { return waiters_.size(); }

 private:
  struct waiter;
  void serve() noexcept;

  std::size_t units_;
  detail::waiter_list waiters_;
};

/// Units taken from a semaphore, given back when this guard is destroyed (RAII).
/// Move-only; an empty (moved-from or default) guard gives back nothing.
class semaphore_units {
 public:
  semaphore_units() noexcept = default;
  /// Adopts `n` units that the caller has already taken from `sem`.
  semaphore_units(semaphore& sem, std::size_t n) noexcept : sem_(&sem), n_(n) {}
  semaphore_units(semaphore_units&& o) noexcept
      : sem_(std::exchange(o.sem_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  semaphore_units& operator=(semaphore_units&& o) noexcept {
    if (this != &o) {
      release();
      sem_ = std::exchange(o.sem_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  ~semaphore_units() { release(); }

  /// Gives the units back now; returns how many.
  std::size_t release() noexcept {
    std::size_t n = std::exchange(n_, 0);
    if (sem_ && n) sem_->release(n);
    return n;
  }
  /// Units held.
  std::size_t count() const noexcept { return n_; }

 private:
  semaphore* sem_ = nullptr;
  std::size_t n_ = 0;
};

/// acquire(n), returned as a guard. Suspends; throws cancelled_error as acquire() does.
inline semaphore_units get_units(semaphore& sem, std::size_t n = 1) {
  sem.acquire(n);
  return semaphore_units(sem, n);
}

/// try_acquire(n), returned as a guard; nullopt when the units are not available now.
inline std::optional<semaphore_units> try_get_units(semaphore& sem, std::size_t n = 1) noexcept {
  if (!sem.try_acquire(n)) return std::nullopt;
  return semaphore_units(sem, n);
}

}  // namespace dusty
