#pragma once
// wait_queue: a FIFO of fibers parked until notified, the building block of fiber-aware
// synchronisation that hands nothing to the waiter (mutex, wait_group, "a connection
// ended", "the DNS answer is here"). Single-shard: every call on the owning shard's
// thread, from a fiber where it may suspend.
#include <dusty/core/detail/waiter_list.hpp>

#include <cstddef>

namespace dusty {

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
  detail::waiter_list waiters_;
};

}  // namespace dusty
