#pragma once
// The per-shard fiber scheduler: a FIFO run queue and the stack switches. It runs on
// its shard's thread only; nothing here is thread-safe, by design.
#include <dusty/core/detail/fiber_context.hpp>
#include <dusty/core/detail/stack_pool.hpp>

#include <cstddef>
#include <exception>

namespace dusty::detail {

class scheduler {
 public:
  scheduler(std::size_t stack_size, std::size_t max_cached_stacks);
  ~scheduler();
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  /// The fiber running now on this thread, or nullptr on the loop's own stack.
  fiber_context* current() const noexcept { return current_; }

  /// Creates a fiber that starts at the next loop turn. The returned context carries
  /// two references: the scheduler's and the caller's (release with release()).
  fiber_context* spawn(std::move_only_function<void()> body, std::size_t stack_size = 0);

  /// Queues a parked (or new) fiber to run. Idempotent for a fiber already queued.
  void make_ready(fiber_context* f) noexcept;

  /// Suspends the current fiber until make_ready(). With a hook, the fiber is cancellable
  /// while parked: cancel() calls hook->on_cancel(). Returns in the fiber, unthrown;
  /// the caller decides from its own state whether it was woken or cancelled.
  void park(wait_hook* hook) noexcept;

  /// Lets every other ready fiber run once, then continues.
  void yield() noexcept;

  /// Marks a fiber cancelled and, if it is parked cancellably, interrupts its wait.
  void cancel(fiber_context* f) noexcept;
  /// Interrupts the wait of a parked fiber whose deadline scope just expired.
  void interrupt(fiber_context* f) noexcept;
  /// Cancels every live fiber (shutdown).
  void cancel_all() noexcept;

  /// Drops one reference; the context is freed at zero.
  void release(fiber_context* f) noexcept;

  /// Runs the fibers that were ready when called (later arrivals wait for the next
  /// turn, so a yielding fiber cannot starve I/O). Returns how many ran.
  std::size_t run_ready();

  bool has_ready() const noexcept { return ready_head_ != nullptr; }
  std::size_t live() const noexcept { return live_count_; }
  stack_pool& stacks() noexcept { return stacks_; }

  /// Fibers spawned from now on start out cancelled (the shard is shutting down).
  void cancel_new_fibers() noexcept { cancel_new_ = true; }

 private:
  void switch_to(fiber_context* f);
  void finish(fiber_context* f) noexcept;
  void suspend_current() noexcept;

  stack_pool stacks_;
  fiber_context* current_ = nullptr;
  fiber_context* ready_head_ = nullptr;
  fiber_context* ready_tail_ = nullptr;
  fiber_context* live_head_ = nullptr;
  std::size_t live_count_ = 0;
  bool cancel_new_ = false;
};

/// Logs an exception that escaped a fiber nobody joined: an error, except for
/// cancelled_error, which is how cancelled fibers normally end (logged at debug level).
void log_escaped(const std::exception_ptr& error) noexcept;

}  // namespace dusty::detail
