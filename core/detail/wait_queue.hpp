#pragma once
// A FIFO of fibers parked until notified, for synchronisation types that hand nothing
// to the waiter (mutex, wait_group): a waiter_list whose waiters carry no payload.
// Single-shard: all calls on the owning shard's thread.
#include <dusty/core/detail/waiter_list.hpp>

#include <cstddef>

namespace dusty::detail {

class wait_queue {
 public:
  wait_queue() = default;
  wait_queue(const wait_queue&) = delete;
  wait_queue& operator=(const wait_queue&) = delete;

  /// Parks the calling fiber until notify_one/notify_all picks it. Throws cancelled_error
  /// if the fiber is (or becomes) cancelled first; a fiber that was notified and then
  /// cancelled before running returns normally (its notification is not lost).
  void wait();

  /// Wakes the longest-waiting fiber; false if none waits.
  bool notify_one() noexcept;
  /// Wakes every waiting fiber; returns how many.
  std::size_t notify_all() noexcept;

  bool empty() const noexcept { return waiters_.empty(); }

 private:
  waiter_list waiters_;
};

}  // namespace dusty::detail
