#pragma once
// Signals a program reacts to without stopping: SIGHUP (reload, by the convention of
// nginx and most daemons), SIGUSR1, SIGUSR2.
//
//   auto reload = dusty::on_signal(SIGHUP, [&] { reload_certificates(); });
//   dusty::wait_for_stop();
//   // `reload` unregisters when it goes out of scope
//
// How they arrive: with runtime_config::handle_signals (the default), the runtime blocks
// SIGINT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 in every shard thread and shard 0 reads
// them from a signalfd on its reactor, so no thread ever runs a signal handler. SIGINT
// and SIGTERM request a stop (see wait_for_stop). For SIGHUP, SIGUSR1 and SIGUSR2 the
// functions registered here run, each in a fresh fiber on shard 0, in the order they were
// registered; a signal that arrives while nobody is registered for it requests a stop,
// as the default action (terminate) would have ended the process, but gracefully.
// Signals of one kind that arrive close together may be merged into one call (signals
// are not queued). Without handle_signals nothing is read and registered functions never run.
#include <csignal>
#include <cstdint>
#include <functional>

namespace dusty {

namespace detail {
struct runtime_state;
}

/// A registration made by on_signal; unregisters when destroyed (or on reset()). Destroy
/// it before the runtime's run() returns. Movable, not copyable.
class signal_handler {
 public:
  signal_handler() noexcept = default;
  signal_handler(signal_handler&& o) noexcept;
  signal_handler& operator=(signal_handler&& o) noexcept;
  ~signal_handler() { reset(); }

  /// Unregisters now: calls that have not started yet will not happen. Any runtime
  /// thread; never suspends.
  void reset() noexcept;
  explicit operator bool() const noexcept { return rt_ != nullptr; }

 private:
  friend signal_handler on_signal(int, std::move_only_function<void()>);
  signal_handler(detail::runtime_state* rt, std::uint64_t id) noexcept : rt_(rt), id_(id) {}
  detail::runtime_state* rt_ = nullptr;
  std::uint64_t id_ = 0;
};

/// Runs `fn` in a new fiber on shard 0 each time the process receives `signo` (SIGHUP,
/// SIGUSR1 or SIGUSR2; anything else throws std::invalid_argument). An exception escaping
/// `fn` is logged. Call from any runtime thread; never suspends.
[[nodiscard]] signal_handler on_signal(int signo, std::move_only_function<void()> fn);

}  // namespace dusty
