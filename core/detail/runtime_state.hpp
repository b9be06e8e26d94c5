#pragma once
// What the shards of one runtime share: immutable configuration, the cross-core rings,
// and a few atomics for stop and shutdown.
#include <dusty/core/runtime.hpp>

#include <dusty/core/detail/shard.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace dusty::detail {

struct runtime_state {
  runtime_config config;
  backend_kind backend = backend_kind::epoll;  // resolved
  std::vector<int> cpus;                      // shard i runs on cpus[i]
  std::vector<std::unique_ptr<shard>> shards;
  // rings[from * n + to]
  std::vector<std::unique_ptr<spsc_queue<xcore_message*>>> rings;

  std::atomic<bool> exiting{false};         ///< The main fiber has finished.
  std::atomic<unsigned> busy{0};            ///< Shards not yet quiet during exit.
  std::atomic<bool> stop_requested{false};  ///< request_stop() or a signal arrived.
  std::atomic<unsigned> stop_waiters{0};    ///< Fibers parked in wait_for_stop().
  std::atomic<int> setup_failures{0};
  fiber_context* main_fiber = nullptr;      ///< On shard 0.
  std::exception_ptr main_error;
  int main_result = 0;

  /// Functions registered with on_signal (core/signal.hpp), in registration order.
  struct signal_entry {
    int signo;
    std::uint64_t id;
    std::shared_ptr<std::move_only_function<void()>> fn;
  };
  std::mutex signal_mutex;
  std::vector<signal_entry> signal_handlers;  ///< Guarded by signal_mutex.
  std::uint64_t next_signal_id = 1;           ///< Guarded by signal_mutex.

  unsigned count() const noexcept { return static_cast<unsigned>(shards.size()); }
  spsc_queue<xcore_message*>& ring(unsigned from, unsigned to) { return *rings[from * count() + to]; }
  void begin_exit() noexcept;
  void request_stop() noexcept;
};

}  // namespace dusty::detail
