#include <dusty/core/runtime.hpp>

#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/log.hpp>

#include <dusty/core/detail/cpu_quota.hpp>
#include <dusty/core/detail/runtime_state.hpp>
#include <dusty/core/detail/stack_trim.hpp>

#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace dusty {

namespace detail {

void runtime_state::begin_exit() noexcept {
  exiting.store(true, std::memory_order_release);
  shard* self = shard::current();
  for (auto& s : shards) s->wake(self);
}

void runtime_state::request_stop() noexcept {
  stop_requested.store(true, std::memory_order_release);
  shard* self = shard::current();
  for (auto& s : shards) {
    s->stop_signal().store(true, std::memory_order_release);
    s->wake(self);
  }
}

}  // namespace detail

namespace {

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

// Tries to create a small ring with the flags the shards will use, so "automatic" can
// fall back before any thread starts. Returns 0 or a negative errno.
int probe_io_uring() {
  io_uring ring;
  io_uring_params p{};
  int r = io_uring_queue_init_params(8, &ring, &p);
  if (r == 0) io_uring_queue_exit(&ring);
  return r;
}

backend_kind resolve_backend(backend_kind wanted) {
  if (wanted == backend_kind::automatic) {
    if (const char* env = std::getenv("DUSTY_BACKEND"); env && *env) {
      auto parsed = parse_backend_kind(env);
      if (!parsed)
        throw config_error(std::string("DUSTY_BACKEND=") + env +
                           ": unknown backend (expected io_uring, epoll or auto)");
      wanted = *parsed;
    }
  }
  if (wanted == backend_kind::epoll) return wanted;
  int r = probe_io_uring();
  if (r == 0) return backend_kind::io_uring;
  if (wanted == backend_kind::io_uring)
    throw config_error(std::string("io_uring was requested but is unavailable: ") + std::strerror(-r));
  static std::atomic<bool> said{false};
  if (!said.exchange(true))
    log::warn("io_uring is unavailable (", std::strerror(-r), "); using epoll");
  return backend_kind::epoll;
}

void raise_fd_limit() {
  rlimit lim;
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

// Every signal the runtime reads from its signalfd: the stop signals and those
// on_signal (core/signal.hpp) may register for.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  return set;
}

// Runs the functions registered for `signo` in fibers of their own; false if there are none.
bool run_signal_handlers(detail::runtime_state& rt, int signo) {
  std::vector<std::shared_ptr<std::move_only_function<void()>>> fns;
  {
    std::lock_guard lock(rt.signal_mutex);
    for (auto& e : rt.signal_handlers)
      if (e.signo == signo) fns.push_back(e.fn);
  }
  for (auto& fn : fns) dusty::spawn([fn] { (*fn)(); }).detach();
  return !fns.empty();
}

// Shard 0 reads the signals from a signalfd on its reactor: SIGINT/SIGTERM become stop
// requests, the others run what on_signal registered (or stop when nothing is).
void signal_fiber(detail::runtime_state& rt) {
  sigset_t set = stop_signals();
  int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) {
    log::error("signalfd failed: ", std::strerror(errno), "; signals will not stop the runtime");
    return;
  }
  struct closer {
    int fd;
    ~closer() { reactor::close(fd); }
  } guard{fd};
  for (unsigned seen = 1;; ++seen) {
    signalfd_siginfo info;
    auto r = reactor::read(fd, std::as_writable_bytes(std::span(&info, 1)));
    if (!r) {
      log::error("reading signalfd failed: ", r.error(), "; signals will not stop the runtime");
      return;
    }
    int signo = static_cast<int>(info.ssi_signo);
    if (signo != SIGINT && signo != SIGTERM && run_signal_handlers(rt, signo)) {
      log::info("received ", ::strsignal(signo));
      --seen;
      continue;
    }
    log::info("received ", ::strsignal(signo), ", stopping");
    rt.request_stop();
    if (seen > 1 || rt.stop_waiters.load() == 0) {
      if (rt.main_fiber) detail::shard::current()->sched().cancel(rt.main_fiber);
    }
  }
}

}  // namespace

std::string_view to_string(backend_kind k) noexcept {
  switch (k) {
    case backend_kind::automatic: return "auto";
    case backend_kind::io_uring: return "io_uring";
    case backend_kind::epoll: return "epoll";
  }
  return "unknown";
}

std::optional<backend_kind> parse_backend_kind(std::string_view s) noexcept {
  if (s == "auto" || s == "automatic") return backend_kind::automatic;
  if (s == "io_uring" || s == "uring" || s == "io-uring") return backend_kind::io_uring;
  if (s == "epoll") return backend_kind::epoll;
  return std::nullopt;
}

runtime::runtime(runtime_config config) : state_(std::make_unique<detail::runtime_state>()) {
  auto& st = *state_;
  st.cpus = allowed_cpus();
  unsigned available = static_cast<unsigned>(st.cpus.size());
  if (config.shards && *config.shards == 0)
    throw config_error("shards must be at least 1");
  if (config.shards && *config.shards > available)
    throw config_error("shards is " + std::to_string(*config.shards) + ", but this process may run on only " +
                       std::to_string(available) + " CPU" + (available == 1 ? "" : "s"));
  if (config.fiber_stack_size < 16 * 1024)
    throw config_error("fiber_stack_size must be at least 16 KiB");
  unsigned bufs = config.io_uring.recv_buffers;
  if (bufs == 0 || (bufs & (bufs - 1)) != 0 || bufs > 32768)
    throw config_error("io_uring.recv_buffers must be a power of two up to 32768");
  if (config.io_uring.recv_buffer_size < 512)
    throw config_error("io_uring.recv_buffer_size must be at least 512 bytes");
  if (config.io_uring.entries < 8 || config.io_uring.entries > 32768)
    throw config_error("io_uring.entries must be between 8 and 32768");
  detail::configure_heap_release();
  if (!config.shards) {
    // Under a CPU quota (a container's --cpus, a Kubernetes CPU limit) the affinity mask
    // still shows every CPU; more shards than the quota's CPUs would all be throttled.
    auto quota = detail::cgroup_cpu_limit();
    config.shards = quota ? std::min(available, *quota) : available;
  }
  st.backend = resolve_backend(config.backend);
  config.backend = st.backend;
  st.config = config;
  st.cpus.resize(*config.shards);
  ::signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();
}

runtime::~runtime() = default;

const runtime_config& runtime::config() const noexcept { return state_->config; }
backend_kind runtime::backend() const noexcept { return state_->backend; }
void runtime::request_stop() noexcept { state_->request_stop(); }

int runtime::run(std::move_only_function<int()> main) {
  if (ran_) throw std::logic_error("dusty::runtime::run may be called only once");
  ran_ = true;
  auto& st = *state_;
  unsigned n = *st.config.shards;
  for (unsigned from = 0; from < n; ++from)
    for (unsigned to = 0; to < n; ++to)
      st.rings.push_back(std::make_unique<detail::spsc_queue<detail::xcore_message*>>(4096));
  for (unsigned i = 0; i < n; ++i) st.shards.push_back(std::make_unique<detail::shard>(st, i));
  st.busy.store(n);

  // Shard threads inherit a mask with the stop signals blocked; shard 0 reads them
  // from a signalfd, so no thread ever runs a signal handler for them.
  sigset_t old_mask;
  sigset_t stops = stop_signals();
  if (st.config.handle_signals) ::pthread_sigmask(SIG_BLOCK, &stops, &old_mask);

  std::string setup_error;
  std::mutex setup_mutex;
  std::barrier ready(static_cast<std::ptrdiff_t>(n));
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      auto& sh = *st.shards[i];
      if (st.config.pin_threads) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(st.cpus[i], &set);
        ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
      }
      try {
        sh.init_backend();
      } catch (const std::exception& e) {
        std::lock_guard lock(setup_mutex);
        setup_error = "shard " + std::to_string(i) + ": " + e.what();
        st.setup_failures.fetch_add(1);
      }
      ready.arrive_and_wait();
      if (st.setup_failures.load()) return;
      if (i == 0) {
        auto& sched = sh.sched();
        st.main_fiber = sched.spawn([&st, m = std::move(main)]() mutable {
          try {
            st.main_result = m();
          } catch (...) {
            st.main_error = std::current_exception();
          }
          st.begin_exit();
        });
        if (st.config.handle_signals) sched.release(sched.spawn([&st] { signal_fiber(st); }));
      }
      sh.run();
    });
  }
  for (auto& t : threads) t.join();
  if (st.main_fiber) st.shards[0]->sched().release(st.main_fiber);
  st.main_fiber = nullptr;

  if (st.config.handle_signals) {
    // Consume stop signals that arrived after shard 0 stopped reading, so unblocking
    // them does not kill the process.
    timespec zero{};
    while (::sigtimedwait(&stops, nullptr, &zero) > 0) {
    }
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  }
  st.shards.clear();
  if (st.setup_failures.load()) throw config_error(setup_error);
  if (st.main_error) std::rethrow_exception(st.main_error);
  return st.main_result;
}

unsigned this_shard_id() {
  auto* s = detail::shard::current();
  if (!s) throw std::system_error(make_error_code(errc::not_in_fiber), "this_shard_id() outside the runtime");
  return s->id();
}

unsigned shard_count() {
  auto* s = detail::shard::current();
  if (!s) throw std::system_error(make_error_code(errc::not_in_fiber), "shard_count() outside the runtime");
  return s->runtime().count();
}

bool stop_requested() noexcept {
  auto* s = detail::shard::current();
  return s && s->runtime().stop_requested.load(std::memory_order_acquire);
}

void request_stop() noexcept {
  if (auto* s = detail::shard::current()) s->runtime().request_stop();
}

void wait_for_stop() {
  auto& sh = detail::shard::in_fiber();
  auto& rt = sh.runtime();
  rt.stop_waiters.fetch_add(1);
  struct leave {
    detail::runtime_state& rt;
    ~leave() { rt.stop_waiters.fetch_sub(1); }
  } guard{rt};
  while (!rt.stop_requested.load(std::memory_order_acquire)) sh.stop_waiters().wait();
}

}  // namespace dusty
