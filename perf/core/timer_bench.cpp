// Timer micro-benchmarks, on the shard's timer heap.
//
//   timer_arm_cancel  with_timeout(1h, fn) around a function that returns at once: arms a
//                     heap timer for the deadline scope and removes it again. No loop turn,
//                     no system call. The argument is how many other timers are armed on
//                     the shard (fibers parked in sleep_for) so the heap has some depth.
//   timer_arm_fire    sleep_for(0): arms a timer that is already due; the fiber parks, the
//                     loop fires the timer and resumes the fiber one loop turn later.
//   timer_expiry      with_timeout around sleep_for(1h) whose deadline has already passed:
//                     two timers armed, one fires and interrupts the sleep, the sleep's timer
//                     is cancelled, cancelled_error is thrown and becomes timeout_error.
//                     This is the whole cost of a timeout that fires, exceptions included.
#include "bench_common.hpp"

#include <dusty/core/deadline.hpp>
#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>

#include <chrono>
#include <vector>

namespace {

using namespace std::chrono_literals;
using dusty::backend_kind;

void timer_arm_cancel(benchmark::State& state, backend_kind backend) {
  const auto background = static_cast<int>(state.range(0));
  dusty::perf::run_in_runtime(state, backend, 1, [&] {
    std::vector<dusty::fiber> sleepers;
    for (int i = 0; i < background; ++i)
      sleepers.push_back(dusty::spawn([i] { dusty::sleep_for(1h + i * 1ms); }));
    dusty::yield();  // the sleepers have armed their timers
    for (auto _ : state) {
      int v = dusty::with_timeout(1h, [] { return 1; });
      benchmark::DoNotOptimize(v);
    }
    for (auto& f : sleepers) f.cancel();
    for (auto& f : sleepers) {
      try {
        f.join();
      } catch (const dusty::cancelled_error&) {
      }
    }
  });
  state.counters["other_timers"] = background;
}

void timer_arm_fire(benchmark::State& state, backend_kind backend) {
  dusty::perf::run_in_runtime(state, backend, 1, [&] {
    for (auto _ : state) dusty::sleep_for(0ns);
  });
}

void timer_expiry(benchmark::State& state, backend_kind backend) {
  std::size_t timeouts = 0;
  dusty::perf::run_in_runtime(state, backend, 1, [&] {
    for (auto _ : state) {
      try {
        dusty::with_timeout(-1ns, [] { dusty::sleep_for(1h); });
      } catch (const dusty::timeout_error&) {
        ++timeouts;
      }
    }
  });
  if (timeouts != static_cast<std::size_t>(state.iterations()))
    state.SkipWithError("a deadline did not produce timeout_error");
}

BENCHMARK_CAPTURE(timer_arm_cancel, io_uring, backend_kind::io_uring)->Arg(0)->Arg(10'000)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(timer_arm_cancel, epoll, backend_kind::epoll)->Arg(0)->Arg(10'000)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(timer_arm_fire, io_uring, backend_kind::io_uring)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(timer_arm_fire, epoll, backend_kind::epoll)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(timer_expiry, io_uring, backend_kind::io_uring)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(timer_expiry, epoll, backend_kind::epoll)->UseRealTime()->Apply(dusty::perf::spread);

}  // namespace

BENCHMARK_MAIN();
