#pragma once
// Fibers waiting for a descriptor event (epoll readiness, a multishot accept result),
// each with an optional deadline on the shard's timer heap. Shared by both backends.
#include <dusty/core/reactor.hpp>
#include <dusty/core/detail/fiber_context.hpp>
#include <dusty/core/detail/intrusive_fifo.hpp>
#include <dusty/core/detail/timer_heap.hpp>

namespace dusty::detail {

class io_waiter_list {
 public:
  io_waiter_list() = default;
  io_waiter_list(const io_waiter_list&) = delete;
  io_waiter_list& operator=(const io_waiter_list&) = delete;

  /// Parks the calling fiber until wake_*(), the deadline, or cancellation.
  /// Returns errc::timed_out or errc::closed; throws cancelled_error.
  result<void> wait(scheduler& s, timer_heap& timers, deadline d);

  /// Wakes one or all waiters (they retry their operation).
  void wake_one() noexcept;
  void wake_all() noexcept;
  /// Wakes every waiter with errc::closed: the descriptor is going away.
  void close_all() noexcept;
  bool empty() const noexcept { return waiters_.empty(); }

 private:
  enum class outcome : unsigned char { waiting, woken, cancelled, timed_out, closed };
  struct waiter final : wait_hook {
    fiber_context* fiber = nullptr;
    io_waiter_list* list = nullptr;
    waiter* prev = nullptr;
    waiter* next = nullptr;
    timer_entry timer;
    timer_heap* timers = nullptr;
    outcome result = outcome::waiting;
    void on_cancel(fiber_context& f) noexcept override;
  };
  void finish(waiter* w, outcome o) noexcept;

  intrusive_fifo<waiter> waiters_;
};

}  // namespace dusty::detail
