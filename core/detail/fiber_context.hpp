#pragma once
// The state of one fiber, owned by its shard's scheduler. Users hold `dusty::fiber`.
#include <dusty/core/detail/cancel_scope.hpp>

#include <boost/context/fiber.hpp>

#include <cstdint>
#include <exception>
#include <functional>

namespace dusty::detail {

class scheduler;
struct fiber_context;

/// What a parked fiber waits on. When the fiber is cancelled (directly or by a deadline
/// scope) while parked, the scheduler calls on_cancel() once; it must make the fiber
/// runnable, now or when the kernel confirms the operation is gone.
struct wait_hook {
  virtual void on_cancel(fiber_context& f) noexcept = 0;

 protected:
  ~wait_hook() = default;
};

struct fiber_context {
  enum class state : std::uint8_t { ready, running, parked, done };

  boost::context::fiber resume_point;     ///< Valid while suspended: where it continues.
  boost::context::fiber scheduler_point;  ///< Valid while running: the loop to return to.
  std::move_only_function<void()> body;
  scheduler* owner = nullptr;

  fiber_context* next_ready = nullptr;  ///< Run-queue link.
  fiber_context* prev_live = nullptr;   ///< Links in the shard's list of live fibers,
  fiber_context* next_live = nullptr;   ///< walked to cancel them all at shutdown.

  state st = state::ready;
  bool cancel_requested = false;  ///< fiber::cancel() was called; sticky.
  bool cancel_delivered = false;  ///< on_cancel() already ran for the current park.
  bool detached = false;          ///< No handle will ever join it.
  std::uint8_t refs = 2;          ///< One for the scheduler until done, one for the handle.

  wait_hook* hook = nullptr;  ///< Set while parked cancellably.
  cancel_scope* scope = nullptr;  ///< Innermost deadline scope.
  fiber_context* joiner = nullptr;  ///< A fiber parked in join() on this one.
  std::exception_ptr error;

#if defined(DUSTY_ASAN)
  const void* stack_bottom = nullptr;
  std::size_t stack_size = 0;
  const void* caller_bottom = nullptr;
  std::size_t caller_size = 0;
#endif

  /// True when any wait now must throw cancelled_error: the fiber was cancelled or a
  /// deadline scope it is inside of has expired.
  bool cancellation_pending() const noexcept {
    if (cancel_requested) return true;
    for (auto* s = scope; s; s = s->parent)
      if (s->expired) return true;
    return false;
  }
};

}  // namespace dusty::detail
