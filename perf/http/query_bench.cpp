// Query strings and percent-decoding (http/codec/query.hpp).
//
//   parse_query/plain            6 pairs, nothing to decode, caller-provided storage.
//   parse_query/encoded          6 pairs with %XX and '+', caller-provided storage.
//   query_params_arena/<kind>    the owning query_params over a request-style arena
//                                (std::pmr::monotonic_buffer_resource on a stack buffer,
//                                released each iteration), then two lookups.
//   query_params_heap            the same on the default resource: what it costs without an
//                                arena (allocations expected, reported, not a failure).
//   percent_decode_path          decoding a 40-byte path segment into a caller buffer.
//
// Paths that must not allocate fail when "allocs" (heap allocations per iteration) is not 0.
#include "alloc_counter.hpp"

#include <dusty/http/codec/query.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <memory_resource>
#include <string>

namespace {

using dusty::http::query_param;
using dusty::http::query_params;

const std::string plain_query = "q=hello&page=2&sort=desc&lang=en-US&per_page=50&view=grid";
const std::string encoded_query =
    "q=hello+world&page=2&sort=desc&lang=en-US&filter=%E2%9C%93+done&name=J%C3%BCrgen";

void parse_query(benchmark::State& state, const std::string& raw) {
  std::array<query_param, dusty::http::default_max_query_params> out;
  std::array<char, 256> scratch;
  const auto before = dusty::perf::allocations();
  for (auto _ : state) {
    auto n = dusty::http::parse_query(raw, out, scratch);
    benchmark::DoNotOptimize(n);
    if (!n || *n != 6) {
      state.SkipWithError("parse failed");
      return;
    }
  }
  dusty::perf::require_no_allocs(state, before);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * raw.size()));
}
BENCHMARK_CAPTURE(parse_query, plain, plain_query);
BENCHMARK_CAPTURE(parse_query, encoded, encoded_query);

void query_params_arena(benchmark::State& state, const std::string& raw) {
  std::array<std::byte, 4096> buffer;
  const auto before = dusty::perf::allocations();
  for (auto _ : state) {
    std::pmr::monotonic_buffer_resource arena{buffer.data(), buffer.size(), std::pmr::null_memory_resource()};
    query_params q{&arena};
    if (!q.parse(raw)) {
      state.SkipWithError("parse failed");
      return;
    }
    benchmark::DoNotOptimize(q.get("page"));
    benchmark::DoNotOptimize(q.get("missing"));
  }
  dusty::perf::require_no_allocs(state, before);
}
BENCHMARK_CAPTURE(query_params_arena, plain, plain_query);
BENCHMARK_CAPTURE(query_params_arena, encoded, encoded_query);

void query_params_heap(benchmark::State& state) {
  const auto before = dusty::perf::allocations();
  for (auto _ : state) {
    query_params q;
    if (!q.parse(encoded_query)) {
      state.SkipWithError("parse failed");
      return;
    }
    benchmark::DoNotOptimize(q.get("page"));
  }
  dusty::perf::allocs_per_iteration(state, before);
}
BENCHMARK(query_params_heap);

void percent_decode_path(benchmark::State& state) {
  const std::string segment = "caf%C3%A9%20au%20lait%2Fr%C3%A9sum%C3%A9.txt";
  std::array<char, 64> out;
  const auto before = dusty::perf::allocations();
  for (auto _ : state) {
    auto n = dusty::http::percent_decode(segment, out);
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(out);
  }
  dusty::perf::require_no_allocs(state, before);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * segment.size()));
}
BENCHMARK(percent_decode_path);

}  // namespace

BENCHMARK_MAIN();
