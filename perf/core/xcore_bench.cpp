// Cross-core micro-benchmarks: submit_to from shard 0 to shard 1 and back, with two
// shards pinned to the two CPUs.
//
//   xcore_round_trip/<backend>/idle   one call at a time; between calls both shards have
//        nothing to do, so each sleeps in the reactor and every message has to wake its
//        target (io_uring: IORING_OP_MSG_RING from the sender's ring; epoll: eventfd write).
//   xcore_round_trip/<backend>/busy   one call at a time, but each shard also runs a fiber
//        that yields in a loop, so neither ever sleeps and no message needs a wake-up
//        system call; a message waits at most one loop turn of its target to be seen.
//   xcore_pipelined/<backend>/K      K calls in flight at once (submitted back to back, then
//        all waited for); ns_per_call is the iteration time divided by K.
//
// The function sent is trivial (returns an int), so these are the costs of the runtime:
// message rings, wake-ups, the fiber spawned on the target for each call, and the reply.
#include "bench_common.hpp"

#include <dusty/core/fiber.hpp>
#include <dusty/core/submit_to.hpp>

#include <atomic>
#include <vector>

namespace {

using dusty::backend_kind;

enum class target_state { idle, busy };

void xcore_round_trip(benchmark::State& state, backend_kind backend, target_state mode) {
  dusty::perf::run_in_runtime(state, backend, 2, [&] {
    std::atomic<bool> stop{false};
    dusty::future<void> remote_spinner;
    dusty::fiber local_spinner;
    if (mode == target_state::busy) {
      remote_spinner = dusty::submit_to(1, [&stop] {
        while (!stop.load(std::memory_order_relaxed)) dusty::yield();
      });
      local_spinner = dusty::spawn([&stop] {
        while (!stop.load(std::memory_order_relaxed)) dusty::yield();
      });
    }
    int sum = 0;
    for (int i = 0; i < 100; ++i) sum += dusty::submit_to(1, [] { return 1; }).get();  // warm up
    for (auto _ : state) sum += dusty::submit_to(1, [] { return 1; }).get();
    benchmark::DoNotOptimize(sum);
    stop.store(true, std::memory_order_relaxed);
    if (remote_spinner.valid()) remote_spinner.get();
    if (local_spinner.joinable()) local_spinner.join();
  });
}

void xcore_pipelined(benchmark::State& state, backend_kind backend) {
  const auto depth = static_cast<std::size_t>(state.range(0));
  dusty::perf::run_in_runtime(state, backend, 2, [&] {
    std::vector<dusty::future<int>> calls;
    calls.reserve(depth);
    int sum = 0;
    for (auto _ : state) {
      for (std::size_t i = 0; i < depth; ++i) calls.push_back(dusty::submit_to(1, [] { return 1; }));
      for (auto& c : calls) sum += c.get();
      calls.clear();
    }
    benchmark::DoNotOptimize(sum);
  });
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(depth));
  state.counters["in_flight"] = static_cast<double>(depth);
  state.counters["ns_per_call"] = dusty::perf::time_per(state, static_cast<double>(depth));
}

BENCHMARK_CAPTURE(xcore_round_trip, io_uring/idle, backend_kind::io_uring, target_state::idle)->Unit(benchmark::kMicrosecond)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(xcore_round_trip, epoll/idle, backend_kind::epoll, target_state::idle)->Unit(benchmark::kMicrosecond)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(xcore_round_trip, io_uring/busy, backend_kind::io_uring, target_state::busy)->Unit(benchmark::kMicrosecond)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(xcore_round_trip, epoll/busy, backend_kind::epoll, target_state::busy)->Unit(benchmark::kMicrosecond)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(xcore_pipelined, io_uring, backend_kind::io_uring)->Arg(16)->Arg(256)->Unit(benchmark::kMicrosecond)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(xcore_pipelined, epoll, backend_kind::epoll)->Arg(16)->Arg(256)->Unit(benchmark::kMicrosecond)->UseRealTime()->Apply(dusty::perf::spread);

}  // namespace

BENCHMARK_MAIN();
