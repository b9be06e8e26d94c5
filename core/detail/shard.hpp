#pragma once
// One shard: a pinned thread with its own scheduler, timers, reactor and cross-core
// endpoints. Everything here is touched only by the shard's own thread, except the
// atomics marked as such.
#include <dusty/core/detail/backend.hpp>
#include <dusty/core/detail/scheduler.hpp>
#include <dusty/core/detail/spsc_queue.hpp>
#include <dusty/core/detail/timer_heap.hpp>
#include <dusty/core/wait_queue.hpp>

#include <atomic>
#include <deque>
#include <memory>
#include <vector>

namespace dusty::detail {

struct runtime_state;

/// A unit of cross-core work. The source shard sends it; the target runs execute() in a
/// fresh fiber and sends it back; the source then calls complete() on its loop.
struct xcore_message {
  unsigned source = 0;
  bool is_reply = false;
  virtual void execute() noexcept = 0;
  virtual void complete() noexcept = 0;

 protected:
  ~xcore_message() = default;
};

class shard {
 public:
  shard(runtime_state& rt, unsigned id);
  ~shard();

  /// The shard whose thread is calling; nullptr outside the runtime's threads.
  static shard* current() noexcept { return current_; }
  /// As current(), but throws std::system_error(errc::not_in_fiber) when not in a fiber.
  static shard& in_fiber();

  unsigned id() const noexcept { return id_; }
  /// How many shards the runtime has.
  unsigned count() const noexcept { return count_; }
  runtime_state& runtime() noexcept { return rt_; }
  scheduler& sched() noexcept { return sched_; }
  timer_heap& timers() noexcept { return timers_; }
  backend& io() noexcept { return *io_; }

  /// Sends a message to another shard (or to this one). Never blocks and never drops:
  /// a full ring leaves the message in a local overflow list, flushed every loop turn.
  void send(unsigned target, xcore_message* m);

  /// Wakes this shard's loop if it sleeps. Thread-safe.
  void wake(shard* from) noexcept;

  /// Creates the reactor. Called on the shard's own thread (io_uring's SINGLE_ISSUER
  /// ties a ring to the thread that creates it).
  void init_backend();
  /// Runs the shard's loop on the calling thread until the runtime is done.
  void run();

  dusty::wait_queue& stop_waiters() noexcept { return stop_waiters_; }
  std::atomic<bool>& stop_signal() noexcept { return stop_signal_; }

 private:
  bool poll_cross_core();
  void flush_overflow();
  bool quiet() const noexcept;
  clock::duration sleep_budget() const;

  static thread_local shard* current_;

  runtime_state& rt_;
  unsigned id_;
  unsigned count_;
  scheduler sched_;
  timer_heap timers_;
  std::unique_ptr<backend> io_;
  std::vector<std::deque<xcore_message*>> overflow_;  // per target
  std::size_t overflow_count_ = 0;
  std::size_t outstanding_ = 0;  // requests sent, replies not yet received
  bool exiting_ = false;
  bool counted_busy_ = true;
  dusty::wait_queue stop_waiters_;

  alignas(64) std::atomic<bool> sleeping_{false};  // shared: read by senders
  std::atomic<bool> stop_signal_{false};             // shared: set by request_stop
};

}  // namespace dusty::detail
