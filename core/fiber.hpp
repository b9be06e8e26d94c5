#pragma once
// Fibers: stackful, cooperatively scheduled threads of control that live on one shard.
// A fiber runs until it waits (I/O, sleep, lock, queue, join, cross-core reply) or
// yields; the shard then runs another. Stacks come from a per-shard pool, each with a
// guard page, and hold only the pages they touch.
#include <chrono>
#include <cstddef>
#include <functional>
#include <utility>

namespace dusty {

namespace detail {
struct fiber_context;
detail::fiber_context* spawn_fiber(std::move_only_function<void()> body, std::size_t stack_size);
}  // namespace detail

struct fiber_options {
  /// Usable stack bytes. Default: 0, meaning runtime_config::fiber_stack_size.
  std::size_t stack_size = 0;
};

/// A handle to a fiber, like std::thread's but cheap. Destroying a handle that was not
/// joined detaches the fiber; an exception escaping a detached fiber is logged.
/// All member functions must be called on the fiber's own shard.
class fiber {
 public:
  fiber() noexcept = default;
  fiber(fiber&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}
  fiber& operator=(fiber&& other) noexcept;
  ~fiber();

  /// Suspends the caller until the fiber has finished, then rethrows the exception that
  /// escaped it, if any. Throws cancelled_error if the *caller* is cancelled while
  /// waiting (the fiber keeps running; join again or cancel it). Leaves the handle empty.
  void join();

  /// Like join(), but the wait goes on when the *caller* is cancelled, and an exception
  /// that escaped the fiber is logged instead of rethrown. For a parent whose children
  /// use its stack: it must outlive them even while it is being cancelled (an HTTP/2
  /// connection and the fibers of its streams). Cancel the fiber first, so the wait is
  /// short. Never throws; suspends. Leaves the handle empty.
  void join_uncancellable() noexcept;

  /// Cancels the fiber: whatever it waits on now or later throws cancelled_error in it.
  void cancel() noexcept;

  /// Lets the fiber run on with nobody to join it.
  void detach() noexcept;

  bool joinable() const noexcept { return ctx_ != nullptr; }
  /// True once the fiber's function has returned or thrown.
  bool done() const noexcept;

 private:
  friend fiber spawn_with(std::move_only_function<void()>, fiber_options);
  explicit fiber(detail::fiber_context* ctx) noexcept : ctx_(ctx) {}
  void reset() noexcept;

  detail::fiber_context* ctx_ = nullptr;
};

/// Starts a fiber on the calling shard. It first runs at the shard's next loop turn.
/// Call from a shard's thread (a fiber, or a cross-core task).
fiber spawn_with(std::move_only_function<void()> fn, fiber_options options);

template <class F>
fiber spawn(F&& fn, fiber_options options = {}) {
  return spawn_with(std::move_only_function<void()>(std::forward<F>(fn)), options);
}

/// Lets the other ready fibers of this shard run, then continues. Throws cancelled_error
/// if the fiber has been cancelled (so a busy loop that yields is cancellable).
void yield();

/// Suspends the calling fiber for `d` (timers have the steady clock's resolution; the
/// reactor wakes at the earliest due timer). Throws cancelled_error when cancelled.
void sleep_for(std::chrono::steady_clock::duration d);
void sleep_until(std::chrono::steady_clock::time_point t);

/// Asks the shard to give the kernel back, once the calling fiber has parked, its stack
/// pages below its frame (pages under a parked fiber's saved stack pointer are dead; they
/// are faulted back in, zero-filled, only if it later runs deeper again), and the free
/// pages of the heap (malloc_trim, at most every 250 ms per shard: glibc does not return
/// memory freed in the middle of a heap on its own). For a fiber about to wait a long
/// time after freeing what its earlier work held: a keep-alive connection that has been
/// idle a while. The work happens on a short-lived helper fiber of the shard, after the
/// caller parks. Never suspends. Call from a fiber.
void release_memory_while_parked();

/// Asks the shard to give the kernel back, soon and at most every 250 ms, the pages of
/// the stacks that fibers which ended left in its cache (all but a few warm ones) and the
/// free pages of its heap. For work that just went idle without a fiber: a server calls
/// it when it parks a connection. Never suspends; call on a shard's thread.
void release_idle_memory();

/// Fibers of the calling shard that have started and not yet finished (running, ready or
/// parked), the runtime's own included. For monitoring. Never suspends; 0 when called
/// from a thread that is no shard's.
std::size_t live_fibers();

/// True when the calling fiber has been cancelled or a deadline scope around it expired.
bool cancellation_pending();
/// Throws cancelled_error when cancellation_pending().
void check_cancelled();

}  // namespace dusty
