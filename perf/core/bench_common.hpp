#pragma once
// Helpers shared by the core micro-benchmarks (perf/core/*_bench.cpp).
//
// Every benchmark function starts its own runtime and runs its `for (auto _ : state)`
// loop inside the runtime's main fiber on shard 0. Google Benchmark starts its clock when
// that loop begins and stops it when the loop ends, so starting the shards and stopping
// them stay outside the timed region; everything inside the loop (fiber switches, loop
// turns with their system calls, cross-core wake-ups) is timed.
#include <dusty/core/runtime.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace dusty::perf {

/// A runtime with `shards` pinned shards on `backend`, with signals left alone.
inline runtime_config bench_config(backend_kind backend, unsigned shards) {
  runtime_config c;
  c.shards = shards;
  c.backend = backend;
  c.handle_signals = false;
  return c;
}

/// Runs body() as the main fiber of a fresh runtime and labels the benchmark with the
/// backend. An exception (say, io_uring refused by the kernel) marks the benchmark as
/// skipped with its message instead of ending the program.
template <class F>
void run_in_runtime(benchmark::State& state, backend_kind backend, unsigned shards, F&& body) {
  try {
    runtime rt(bench_config(backend, shards));
    state.SetLabel(std::string(to_string(rt.backend())));
    rt.run([&] { body(); });
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

/// A counter shown as time per `per_iteration` events (kInvert of a rate): with
/// UseRealTime() it is wall-clock seconds per event, printed with an SI prefix (23.4n).
inline benchmark::Counter time_per(benchmark::State& state, double per_iteration) {
  return benchmark::Counter(static_cast<double>(state.iterations()) * per_iteration,
                            benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// Adds min and max to the aggregates Google Benchmark reports over repetitions
/// (--benchmark_repetitions=N), beside mean, median and stddev. Use with ->Apply(spread).
inline void spread(benchmark::internal::Benchmark* b) {
  b->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
  b->ComputeStatistics("max", [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); });
}

}  // namespace dusty::perf
