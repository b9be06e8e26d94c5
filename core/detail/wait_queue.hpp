#pragma once
// A FIFO of fibers parked until notified: the building block of every fiber-aware
// synchronisation type. Single-shard: all calls on the owning shard's thread.
#include <dusty/core/detail/fiber_context.hpp>

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

  bool empty() const noexcept { return head_ == nullptr; }

 private:
  struct waiter final : wait_hook {
    fiber_context* fiber = nullptr;
    wait_queue* queue = nullptr;
    waiter* prev = nullptr;
    waiter* next = nullptr;
    bool notified = false;
    void on_cancel(fiber_context& f) noexcept override;
  };

  void unlink(waiter* w) noexcept;

  waiter* head_ = nullptr;
  waiter* tail_ = nullptr;
};

}  // namespace dusty::detail
