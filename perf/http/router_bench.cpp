// Route lookup (http/router.hpp). The router holds ints; the server stores handlers, which
// changes nothing in the lookup.
//
//   route_hello/<path>      apps/hello's table (/, /plaintext, /json, /user/:id, /events,
//                           /static/*): a static hit, a param, a suffix glob, a 404.
//   route_backtrack         /hello/users with /:any/users and /hello/users/test defined:
//                           the static branch dead-ends and the search backs out.
//   route_glob_segment      /api/v1/debug through /api/*/debug.
//   route_1000/<kind>       a 1,000-route REST table (200 resources x 5 routes, spread over
//                           API versions): lookups cycle through 1,000 different paths.
//   route_method_not_allowed  the 405 path: a failed search and the any-method search.
//   allowed_methods         building the Allow set for a path (one search per method).
//
// Lookup must not allocate: "allocs" is heap allocations per iteration and a non-zero value
// fails the benchmark.
#include "alloc_counter.hpp"

#include <dusty/http/router.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <string>
#include <vector>

namespace {

using dusty::http::method;
using dusty::http::route_param;
using dusty::http::router;

router<int> hello_router() {
  router<int> r;
  r.get("/", 1);
  r.get("/plaintext", 2);
  r.get("/json", 3);
  r.get("/user/:id", 4);
  r.get("/events", 5);
  r.get("/static/*", 6);
  return r;
}

void lookup(benchmark::State& state, const router<int>& r, method m, const std::vector<std::string>& paths,
            bool expect_hit) {
  std::array<route_param, dusty::http::default_max_params> params;
  std::size_t i = 0;
  const auto before = dusty::perf::allocations();
  for (auto _ : state) {
    auto found = r.find(m, paths[i], params);
    benchmark::DoNotOptimize(found);
    if (found.has_value() != expect_hit) {
      state.SkipWithError(("unexpected result for " + paths[i]).c_str());
      return;
    }
    if (++i == paths.size())
      i = 0;
  }
  dusty::perf::require_no_allocs(state, before);
}

void route_hello(benchmark::State& state, std::string path, bool hit) {
  const auto r = hello_router();
  lookup(state, r, method::get, {path}, hit);
}
BENCHMARK_CAPTURE(route_hello, static, std::string{"/plaintext"}, true);
BENCHMARK_CAPTURE(route_hello, root, std::string{"/"}, true);
BENCHMARK_CAPTURE(route_hello, param, std::string{"/user/12345"}, true);
BENCHMARK_CAPTURE(route_hello, suffix_glob, std::string{"/static/css/site/main.css"}, true);
BENCHMARK_CAPTURE(route_hello, not_found, std::string{"/nothing/here"}, false);

void route_backtrack(benchmark::State& state) {
  router<int> r;
  r.get("/:any/users", 1);
  r.get("/hello/users/test", 2);
  lookup(state, r, method::get, {"/hello/users"}, true);
}
BENCHMARK(route_backtrack);

void route_glob_segment(benchmark::State& state) {
  router<int> r;
  r.get("/api/*/debug", 1);
  r.get("/api/*/status", 2);
  lookup(state, r, method::get, {"/api/v1/debug"}, true);
}
BENCHMARK(route_glob_segment);

// 200 resources, each with list/create/read/update/delete routes: 1,000 routes.
router<int> big_router() {
  router<int> r;
  for (int i = 0; i < 200; ++i) {
    const auto base = "/api/v" + std::to_string(i % 4) + "/resource" + std::to_string(i);
    r.get(base, i * 5);
    r.post(base, i * 5 + 1);
    r.get(base + "/:id", i * 5 + 2);
    r.put(base + "/:id", i * 5 + 3);
    r.delete_(base + "/:id/items/:item", i * 5 + 4);
  }
  return r;
}

void route_1000(benchmark::State& state, bool with_params) {
  const auto r = big_router();
  if (r.size() != 1000) {
    state.SkipWithError("expected 1,000 routes");
    return;
  }
  std::vector<std::string> paths;
  for (int i = 0; i < 1000; ++i) {
    const int res = (i * 7919) % 200;  // spread over the table, not in insertion order
    auto base = "/api/v" + std::to_string(res % 4) + "/resource" + std::to_string(res);
    paths.push_back(with_params ? base + "/" + std::to_string(100000 + i) : base);
  }
  lookup(state, r, method::get, paths, true);
  state.counters["routes"] = static_cast<double>(r.size());
}
BENCHMARK_CAPTURE(route_1000, static, false);
BENCHMARK_CAPTURE(route_1000, param, true);

void route_method_not_allowed(benchmark::State& state) {
  const auto r = big_router();
  lookup(state, r, method::patch, {"/api/v1/resource77/123"}, false);
}
BENCHMARK(route_method_not_allowed);

void allowed_methods(benchmark::State& state) {
  const auto r = big_router();
  const std::string path = "/api/v1/resource77/123";
  const auto before = dusty::perf::allocations();
  for (auto _ : state) {
    auto set = r.allowed_methods(path);
    benchmark::DoNotOptimize(set);
  }
  dusty::perf::require_no_allocs(state, before);
}
BENCHMARK(allowed_methods);

}  // namespace

BENCHMARK_MAIN();
