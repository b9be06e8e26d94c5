#pragma once
// The runtime: one pinned thread per shard, each with its own reactor and fibers,
// sharing nothing. run() starts the shards, runs `main` as a fiber on shard 0, and
// returns when main has finished and every shard has wound down.
//
//   int main() {
//     dusty::runtime rt;                       // one shard per CPU we may use
//     return rt.run([] {
//       dusty::wait_for_stop();                // until SIGINT/SIGTERM
//     });
//   }
#include <dusty/core/reactor.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>

namespace dusty {

namespace detail {
struct runtime_state;
}

struct runtime_config {
  /// Number of shards (threads). Default: every CPU in the process's affinity mask, but
  /// no more than the cgroup's CPU quota rounded up (cgroup v2 cpu.max, v1
  /// cpu.cfs_quota_us / cpu.cfs_period_us, the smallest along the cgroup's ancestors), as
  /// Go and Java size themselves in a container: `--cpus 1.5` gives 2 shards. An explicit
  /// value may exceed the quota, not the affinity mask.
  std::optional<unsigned> shards;
  /// Reactor backend. Default: automatic, which the environment variable
  /// DUSTY_BACKEND=io_uring|epoll overrides.
  backend_kind backend = backend_kind::automatic;
  /// Pin shard i to the i-th CPU of the affinity mask. Default: true.
  bool pin_threads = true;
  /// Turn SIGINT/SIGTERM into a stop request (see wait_for_stop), and SIGHUP, SIGUSR1,
  /// SIGUSR2 into calls of what on_signal registered (core/signal.hpp). Default: true.
  bool handle_signals = true;
  /// Usable stack per fiber; pages are committed only when touched. Default: 128 KiB.
  std::size_t fiber_stack_size = 128 * 1024;
  /// Freed stacks each shard keeps for reuse. Default: 1024.
  std::size_t cached_stacks = 1024;

  struct io_uring_config {
    /// Submission queue entries per ring (the completion queue is 4x). Default: 4096.
    unsigned entries = 4096;
    /// Buffers in each shard's provided-buffer ring for receives; a power of two. Default: 1024.
    unsigned recv_buffers = 1024;
    /// Size of each provided buffer. Default: 4 KiB.
    std::size_t recv_buffer_size = 4096;
  } io_uring;
};

/// Thrown by the runtime constructor for a configuration it cannot run (zero shards,
/// more shards than CPUs, a forced backend the kernel refuses). what() is one line
/// meant for the user.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class runtime {
 public:
  /// Validates the configuration and resolves the backend; throws config_error.
  explicit runtime(runtime_config config = {});
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Starts the shards, runs `main` as a fiber on shard 0 and blocks the calling thread
  /// until it returns and every shard has stopped: then every fiber still alive is
  /// cancelled and the shards wait for them to unwind. Returns main's value (0 for
  /// void); an exception escaping main is rethrown here. One run per runtime.
  int run(std::move_only_function<int()> main);
  template <class F>
    requires std::is_void_v<std::invoke_result_t<F&>>
  int run(F main) {
    // A separate overload taking move_only_function<void()> would make every lambda
    // returning int ambiguous: such a lambda converts to both function types.
    return run(std::move_only_function<int()>([m = std::move(main)]() mutable {
      m();
      return 0;
    }));
  }

  /// Asks the program to stop, as SIGTERM does: wakes wait_for_stop() everywhere.
  /// Thread-safe; callable from any thread, or from a signal-free context of a shard.
  void request_stop() noexcept;

  /// The configuration with defaults filled in (shards, backend resolved).
  const runtime_config& config() const noexcept;
  backend_kind backend() const noexcept;

 private:
  std::unique_ptr<detail::runtime_state> state_;
  bool ran_ = false;
};

/// The calling shard's index, in [0, shard_count()). Call from a runtime thread.
unsigned this_shard_id();
/// The number of shards of the running runtime. Call from a runtime thread.
unsigned shard_count();

/// Parks the calling fiber until a stop is requested (SIGINT, SIGTERM, request_stop()).
/// Returns at once if one was requested already. If a signal arrives while no fiber
/// waits here, the main fiber is cancelled instead; a second signal always cancels it.
void wait_for_stop();
/// True once a stop has been requested.
bool stop_requested() noexcept;
/// request_stop() of the runtime the calling shard belongs to.
void request_stop() noexcept;

}  // namespace dusty
