// Request-head parsing and body decoding (http/detail/request_parser, body_decoder).
//
//   parse_browser_request      one ~500-byte head as a desktop browser sends it.
//   parse_pipelined_16         16 small pipelined GETs (wrk's plaintext shape) in one buffer,
//                              parsed one after the other as a connection does;
//                              ns_per_request is the figure to compare with single requests.
//   parse_byte_by_byte         the browser head arriving one byte per read: the worst split.
//   decode_chunked_body        a 16 KiB chunked body in 1 KiB chunks, in 4 KiB reads.
//
// Every parse path must not allocate: "allocs" is heap allocations per iteration and a
// non-zero value fails the benchmark.
#include "alloc_counter.hpp"

#include <dusty/http/h1/body_decoder.hpp>
#include <dusty/http/h1/request_parser.hpp>

#include "sample_requests.hpp"

#include <benchmark/benchmark.h>

#include <string>

namespace {

using dusty::perf::browser_request;

using dusty::http::h1::body_decoder;
using dusty::http::h1::body_framing;
using dusty::http::h1::request_parser;


const std::string plaintext_request =
    "GET /plaintext HTTP/1.1\r\n"
    "Host: 127.0.0.1:8080\r\n"
    "Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

void parse_browser_request(benchmark::State& state) {
  request_parser parser;
  const auto before = dusty::perf::allocations();
  for (auto _ : state) {
    parser.reset();
    auto r = parser.parse(browser_request);
    benchmark::DoNotOptimize(r);
    if (!r || *r != browser_request.size()) {
      state.SkipWithError("parse failed");
      break;
    }
  }
  dusty::perf::require_no_allocs(state, before);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * browser_request.size()));
  state.counters["head_bytes"] = static_cast<double>(browser_request.size());
}
BENCHMARK(parse_browser_request);

void parse_pipelined_16(benchmark::State& state) {
  std::string batch;
  for (int i = 0; i < 16; ++i)
    batch += plaintext_request;
  request_parser parser;
  const auto before = dusty::perf::allocations();
  for (auto _ : state) {
    std::string_view rest = batch;
    while (!rest.empty()) {
      parser.reset();
      auto r = parser.parse(rest);
      if (!r || *r == 0) {
        state.SkipWithError("parse failed");
        return;
      }
      benchmark::DoNotOptimize(parser.head().keep_alive);
      rest.remove_prefix(*r);
    }
  }
  dusty::perf::require_no_allocs(state, before);
  state.SetItemsProcessed(state.iterations() * 16);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * batch.size()));
  state.counters["ns_per_request"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 16,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(parse_pipelined_16);

void parse_byte_by_byte(benchmark::State& state) {
  request_parser parser;
  const auto before = dusty::perf::allocations();
  for (auto _ : state) {
    parser.reset();
    std::size_t done = 0;
    for (std::size_t n = 1; n <= browser_request.size() && done == 0; ++n) {
      auto r = parser.parse(std::string_view{browser_request}.substr(0, n));
      if (!r) {
        state.SkipWithError("parse failed");
        return;
      }
      done = *r;
    }
    benchmark::DoNotOptimize(done);
  }
  dusty::perf::require_no_allocs(state, before);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * browser_request.size()));
}
BENCHMARK(parse_byte_by_byte);

void decode_chunked_body(benchmark::State& state) {
  std::string wire;
  const std::string chunk(1024, 'x');
  for (int i = 0; i < 16; ++i)
    wire += "400\r\n" + chunk + "\r\n";
  wire += "0\r\n\r\n";
  const auto before = dusty::perf::allocations();
  std::uint64_t total = 0;
  for (auto _ : state) {
    auto decoder = body_decoder::create(body_framing::chunked, 0);
    std::string_view in = wire;
    while (!decoder->done()) {
      auto piece = decoder->decode(in.substr(0, 4096));
      if (!piece) {
        state.SkipWithError("decode failed");
        return;
      }
      total += piece->data.size();
      in.remove_prefix(piece->consumed);
    }
  }
  benchmark::DoNotOptimize(total);
  dusty::perf::require_no_allocs(state, before);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
}
BENCHMARK(decode_chunked_body);

}  // namespace

BENCHMARK_MAIN();
