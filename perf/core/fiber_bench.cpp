// Fiber micro-benchmarks: context switch through the scheduler, and spawn + join.
//
// A "switch" here is one dusty::yield(): the yielding fiber jumps to its shard's
// scheduler loop, which jumps into the next ready fiber. With N fibers yielding in a
// round robin, one iteration of the timed loop is one yield by each of the N fibers and
// exactly one turn of the shard's loop (run the ready fibers, poll cross-core rings,
// fire timers, poll the reactor without blocking). The ns_per_switch counter is the
// iteration time divided by N, so it includes 1/N of a loop turn, reactor poll included.
#include "bench_common.hpp"

#include <dusty/core/fiber.hpp>

#include <vector>

namespace {

using dusty::backend_kind;

void fiber_switch(benchmark::State& state, backend_kind backend) {
  const auto n = static_cast<int>(state.range(0));
  dusty::perf::run_in_runtime(state, backend, 1, [&] {
    bool stop = false;
    std::vector<dusty::fiber> others;
    for (int i = 1; i < n; ++i)
      others.push_back(dusty::spawn([&stop] {
        while (!stop) dusty::yield();
      }));
    dusty::yield();  // every fiber has started and is in the round robin
    for (auto _ : state) dusty::yield();
    stop = true;
    for (auto& f : others) f.join();
  });
  state.counters["fibers"] = n;
  state.counters["ns_per_switch"] = dusty::perf::time_per(state, n);
}

// spawn + join of an empty fiber, `batch` at a time. A fiber first runs at its shard's
// next loop turn, and the joiner is resumed one turn after it ends, so batch 1 costs two
// loop turns per fiber; with a batch of 64 the turns are shared by 64 fibers.
void spawn_join(benchmark::State& state, backend_kind backend) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  dusty::perf::run_in_runtime(state, backend, 1, [&] {
    std::vector<dusty::fiber> fibers;
    fibers.reserve(batch);
    for (auto _ : state) {
      for (std::size_t i = 0; i < batch; ++i) fibers.push_back(dusty::spawn([] {}));
      for (auto& f : fibers) f.join();
      fibers.clear();
    }
  });
  state.counters["batch"] = static_cast<double>(batch);
  state.counters["ns_per_fiber"] = dusty::perf::time_per(state, static_cast<double>(batch));
}

BENCHMARK_CAPTURE(fiber_switch, io_uring, backend_kind::io_uring)->Arg(2)->Arg(8)->Arg(64)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(fiber_switch, epoll, backend_kind::epoll)->Arg(2)->Arg(8)->Arg(64)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(spawn_join, io_uring, backend_kind::io_uring)->Arg(1)->Arg(64)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(spawn_join, epoll, backend_kind::epoll)->Arg(1)->Arg(64)->UseRealTime()->Apply(dusty::perf::spread);

}  // namespace

BENCHMARK_MAIN();
