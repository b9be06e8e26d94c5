// Machine baselines for reading the core figures: what the hardware, the kernel and
// Boost.Context cost on their own, with no dusty code involved. They run on plain
// threads, not in a runtime.
//
//   baseline_boost_context_jump    one Boost.Context resume (a single stack switch); a
//                                  dusty::yield() makes two (fiber -> loop -> next fiber).
//   baseline_syscall_getppid       the cheapest system call: the floor of any syscall.
//   baseline_io_uring_enter_idle   io_uring_submit_and_get_events() on an idle ring set up
//                                  as dusty's shards do it: what poll(0) costs per loop turn.
//   baseline_epoll_pwait2_idle     epoll_pwait2() with a zero timeout on one idle eventfd.
//   baseline_thread_ping_pong/spin two threads pinned to CPUs 0 and 1 bouncing a value
//                                  through shared atomics: the cross-CPU floor when
//                                  nobody sleeps.
//   baseline_thread_ping_pong/eventfd  the same through two eventfds with blocking reads:
//                                  each hop wakes a sleeping thread, as a sleeping shard is.
#include "bench_common.hpp"

#include <boost/context/fiber.hpp>
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>

namespace {

namespace ctx = boost::context;

void baseline_boost_context_jump(benchmark::State& state) {
  bool stop = false;
  ctx::fiber other([&stop](ctx::fiber&& back) {
    while (!stop) back = std::move(back).resume();
    return std::move(back);
  });
  for (auto _ : state) other = std::move(other).resume();  // two jumps: there and back
  stop = true;
  other = std::move(other).resume();
  state.counters["ns_per_jump"] = benchmark::Counter(static_cast<double>(state.iterations()) * 2,
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void baseline_syscall_getppid(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(::getppid());
}

void baseline_io_uring_enter_idle(benchmark::State& state) {
  io_uring ring;
  io_uring_params p{};
  p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  p.cq_entries = 4096 * 4;
  if (int r = io_uring_queue_init_params(4096, &ring, &p); r < 0) {
    state.SkipWithError("io_uring_queue_init_params failed");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(io_uring_submit_and_get_events(&ring));
  io_uring_queue_exit(&ring);
}

void baseline_epoll_pwait2_idle(benchmark::State& state) {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  int ev_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, ev_fd, &ev);
  epoll_event out[256];
  timespec zero{};
  for (auto _ : state) benchmark::DoNotOptimize(::epoll_pwait2(ep, out, 256, &zero, nullptr));
  ::close(ev_fd);
  ::close(ep);
}

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
}

// Pins the calling thread to `cpu` and restores its previous mask on scope exit.
class pinned {
 public:
  explicit pinned(int cpu) {
    ::pthread_getaffinity_np(::pthread_self(), sizeof saved_, &saved_);
    pin_to(cpu);
  }
  ~pinned() { ::pthread_setaffinity_np(::pthread_self(), sizeof saved_, &saved_); }

 private:
  cpu_set_t saved_;
};

void baseline_thread_ping_pong_spin(benchmark::State& state) {
  alignas(64) std::atomic<std::uint64_t> ping{0};
  alignas(64) std::atomic<std::uint64_t> pong{0};
  std::atomic<bool> stop{false};
  std::thread peer([&] {
    pin_to(1);
    std::uint64_t seen = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      std::uint64_t v = ping.load(std::memory_order_acquire);
      if (v != seen) {
        seen = v;
        pong.store(v, std::memory_order_release);
      }
    }
  });
  pinned here(0);
  std::uint64_t n = 0;
  for (auto _ : state) {
    ping.store(++n, std::memory_order_release);
    while (pong.load(std::memory_order_acquire) != n) {
    }
  }
  stop = true;
  peer.join();
}

void baseline_thread_ping_pong_eventfd(benchmark::State& state) {
  int to_peer = ::eventfd(0, EFD_CLOEXEC);
  int to_me = ::eventfd(0, EFD_CLOEXEC);
  std::thread peer([&] {
    pin_to(1);
    for (;;) {
      std::uint64_t v;
      if (::read(to_peer, &v, sizeof v) != sizeof v || v == 1000) return;  // 1000: stop
      std::uint64_t one = 1;
      [[maybe_unused]] auto r = ::write(to_me, &one, sizeof one);
    }
  });
  pinned here(0);
  for (auto _ : state) {
    std::uint64_t v = 1;
    [[maybe_unused]] auto w = ::write(to_peer, &v, sizeof v);
    [[maybe_unused]] auto r = ::read(to_me, &v, sizeof v);
  }
  std::uint64_t stop = 1000;
  [[maybe_unused]] auto w = ::write(to_peer, &stop, sizeof stop);
  peer.join();
  ::close(to_peer);
  ::close(to_me);
}

BENCHMARK(baseline_boost_context_jump)->Apply(dusty::perf::spread);
BENCHMARK(baseline_syscall_getppid)->Apply(dusty::perf::spread);
BENCHMARK(baseline_io_uring_enter_idle)->Apply(dusty::perf::spread);
BENCHMARK(baseline_epoll_pwait2_idle)->Apply(dusty::perf::spread);
BENCHMARK(baseline_thread_ping_pong_spin)->Name("baseline_thread_ping_pong/spin")->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK(baseline_thread_ping_pong_eventfd)
    ->Name("baseline_thread_ping_pong/eventfd")
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime()
    ->Apply(dusty::perf::spread);

}  // namespace

BENCHMARK_MAIN();
