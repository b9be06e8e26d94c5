#pragma once
// Heap-allocation counting for the http micro-benchmarks.
//
// Including this header replaces the global operator new and delete of the benchmark
// binary (so include it in exactly one translation unit: the *_bench.cpp itself). Every
// allocation through operator new is counted; `allocs_per_iteration()` turns a before/after
// difference into the "allocs" counter, and `require_no_allocs()` fails the benchmark when
// a path that must not allocate did.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

namespace dusty::perf {

inline std::atomic<std::uint64_t> heap_allocations{0};

/// Allocations so far in this process.
inline std::uint64_t allocations() noexcept { return heap_allocations.load(std::memory_order_relaxed); }

/// Records allocations per iteration since `before` as the "allocs" counter.
inline double allocs_per_iteration(benchmark::State& state, std::uint64_t before) {
  const auto per = static_cast<double>(allocations() - before) / static_cast<double>(state.iterations());
  state.counters["allocs"] = per;
  return per;
}

/// Same, and marks the benchmark failed when anything was allocated.
/// The message names the figure; perf/run-micro.sh looks for "must not allocate".
inline void require_no_allocs(benchmark::State& state, std::uint64_t before) {
  if (const double per = allocs_per_iteration(state, before); per != 0)
    state.SkipWithError(("allocated on a path that must not allocate: " + std::to_string(per) +
                         " allocations per iteration")
                            .c_str());
}

}  // namespace dusty::perf

namespace {

void* counted_alloc(std::size_t size, std::size_t align) {
  dusty::perf::heap_allocations.fetch_add(1, std::memory_order_relaxed);
  if (size == 0)
    size = 1;
  void* p = align <= alignof(std::max_align_t)
                ? std::malloc(size)
                : std::aligned_alloc(align, (size + align - 1) / align * align);
  if (p == nullptr)
    throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t size) { return counted_alloc(size, 0); }
void* operator new[](std::size_t size) { return counted_alloc(size, 0); }
void* operator new(std::size_t size, std::align_val_t align) {
  return counted_alloc(size, static_cast<std::size_t>(align));
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return counted_alloc(size, static_cast<std::size_t>(align));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(size, 0);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(size, 0);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
