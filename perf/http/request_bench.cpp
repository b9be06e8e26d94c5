// What a handler reads from a request: header lookup and the query, over a head parsed
// by the server's own parser (http/request.hpp, http/h1/request_parser.hpp).
//
//   header_lookup/<case>   request::header(name) over the 12 fields of a desktop browser's
//                          GET: the first field, one in the middle, the last one asked in
//                          lower case (the lookup is ASCII case-insensitive), and a miss
//                          (every field compared). The names and values are views into
//                          the parsed head; nothing is copied.
//   header_lookup_handler  the four lookups a typical handler makes in a row (Host,
//                          Accept-Encoding, Cookie, a missing X-Request-Id).
//   request_query/<kind>   req.query("page") and a missing key on a fresh request, as a
//                          handler calls it: the query string is parsed and percent-decoded
//                          into the request's arena on first use, and the arena is reset
//                          after each iteration as the connection resets it after each
//                          response. One warm-up iteration runs before counting, so the
//                          arena's first chunk (kept across resets) is already there.
//
// None of these may allocate: "allocs" is heap allocations per iteration and a non-zero
// value fails the benchmark.
#include "alloc_counter.hpp"

#include <dusty/core/arena.hpp>
#include <dusty/http/h1/request_parser.hpp>
#include <dusty/http/request.hpp>

#include "sample_requests.hpp"

#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

namespace {

using dusty::perf::browser_request;

using dusty::http::request;
using dusty::http::h1::request_parser;


// A request head parsed once, as the connection hands it to a handler.
struct parsed_request {
  explicit parsed_request(const std::string& wire) {
    auto r = parser.parse(wire);
    ok = r && *r == wire.size();
  }
  request_parser parser;
  bool ok = false;
};

void header_lookup(benchmark::State& state, std::string_view name, bool hit) {
  dusty::arena arena;
  parsed_request p(browser_request);
  if (!p.ok) {
    state.SkipWithError("parse failed");
    return;
  }
  request req(p.parser.head(), arena, nullptr, dusty::http::default_max_query_params);
  const auto before = dusty::perf::allocations();
  for (auto _ : state) {
    benchmark::DoNotOptimize(name);
    auto v = req.header(name);
    benchmark::DoNotOptimize(v);
    if (v.has_value() != hit) {
      state.SkipWithError("unexpected lookup result");
      return;
    }
  }
  dusty::perf::require_no_allocs(state, before);
  state.counters["fields"] = static_cast<double>(req.headers().size());
}
BENCHMARK_CAPTURE(header_lookup, first, std::string_view{"Host"}, true);
BENCHMARK_CAPTURE(header_lookup, middle, std::string_view{"Accept-Encoding"}, true);
BENCHMARK_CAPTURE(header_lookup, last_lower_case, std::string_view{"sec-fetch-site"}, true);
BENCHMARK_CAPTURE(header_lookup, miss, std::string_view{"X-Forwarded-For"}, false);

void header_lookup_handler(benchmark::State& state) {
  dusty::arena arena;
  parsed_request p(browser_request);
  if (!p.ok) {
    state.SkipWithError("parse failed");
    return;
  }
  request req(p.parser.head(), arena, nullptr, dusty::http::default_max_query_params);
  std::string_view names[] = {"Host", "Accept-Encoding", "Cookie", "X-Request-Id"};
  const auto before = dusty::perf::allocations();
  for (auto _ : state) {
    benchmark::DoNotOptimize(names);
    std::size_t found = 0;
    for (auto n : names)
      found += req.header(n).has_value();
    benchmark::DoNotOptimize(found);
  }
  dusty::perf::require_no_allocs(state, before);
}
BENCHMARK(header_lookup_handler);

void request_query(benchmark::State& state, const std::string& wire) {
  dusty::arena arena;
  parsed_request p(wire);
  if (!p.ok) {
    state.SkipWithError("parse failed");
    return;
  }
  auto once = [&] {
    request req(p.parser.head(), arena, nullptr, dusty::http::default_max_query_params);
    auto page = req.query("page");
    auto missing = req.query("missing");
    benchmark::DoNotOptimize(page);
    benchmark::DoNotOptimize(missing);
    arena.reset();
    return page.has_value() && !missing.has_value();
  };
  if (!once()) {
    state.SkipWithError("query lookup failed");
    return;
  }
  const auto before = dusty::perf::allocations();
  for (auto _ : state)
    once();
  dusty::perf::require_no_allocs(state, before);
}
BENCHMARK_CAPTURE(request_query, plain,
                  std::string{"GET /search?q=hello&page=2&sort=desc&lang=en-US&per_page=50&view=grid HTTP/1.1\r\n"
                              "Host: www.example.com\r\n\r\n"});
BENCHMARK_CAPTURE(request_query, encoded,
                  std::string{"GET /search?q=hello+world&page=2&sort=desc&lang=en-US&filter=%E2%9C%93+done"
                              "&name=J%C3%BCrgen HTTP/1.1\r\nHost: www.example.com\r\n\r\n"});

}  // namespace

BENCHMARK_MAIN();
