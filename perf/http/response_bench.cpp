// Building and serialising responses (http/response.hpp, http/h1/server_connection.cpp).
//
// The server serialises a response in connection_sink (status line, Server, Date, the
// handler's fields, Content-Length or chunked, Connection, then the body into the
// connection's output buffer). That code is private to serve_connection() and only
// runs against a net::connection, so it is measured through the smallest real entry
// point: serve_connection() on one end of a Unix socketpair, the benchmark's client on
// the other, both fibers of one shard.
//
//   exchange/<backend>/<route>/depth:N   the client writes N pipelined GETs in one write
//                          and reads until all N answers have arrived; the server
//                          parses, routes, runs apps/hello's handler, serialises the
//                          answers and sends them coalesced in one write. ns_per_request is
//                          the whole exchange per request, both sides' system calls
//                          included (one write and one or more reads each way per batch).
//                          Routes: plaintext (res.body = "Hello, World!"), json
//                          (res.json({{"message", "Hello, World!"}}), as TechEmpower's /json).
//   exchange_baseline/<backend>/depth:N  the same client against a responder that parses
//                          nothing: it counts "\r\n\r\n" and writes the same bytes the
//                          plaintext exchange produced. exchange minus baseline is
//                          dusty's HTTP work per request: parse, route, handler, serialise.
//   response_build/<kind>  a response filled as a handler fills it, with a sink that
//                          discards: plaintext (content_type + a literal body) and json
//                          (res.json of a fresh object, and of a prebuilt one). This is the
//                          handler's side only; the framing above is not in it.
//
// Allocation checks ("allocs" per request or per iteration): the plaintext exchange, its
// baseline and response_build/plaintext must not allocate (non-zero fails the
// benchmark). JSON responses allocate (nlohmann::json's object nodes and the dumped
// std::string): reported, not a failure.
#include "alloc_counter.hpp"

#include "../core/bench_common.hpp"

#include <dusty/core/arena.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/http/h1/server_connection.hpp>
#include <dusty/http/request.hpp>
#include <dusty/http/response.hpp>
#include <dusty/net/connection.hpp>

#include <benchmark/benchmark.h>

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

using dusty::backend_kind;
namespace http = dusty::http;
namespace net = dusty::net;

const std::string plaintext_request = "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
                                      "Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,"
                                      "application/xml;q=0.8,*/*;q=0.7\r\nConnection: keep-alive\r\n\r\n";
const std::string json_request = "GET /json HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
                                 "Accept: application/json,text/html;q=0.9,application/xhtml+xml;q=0.9,"
                                 "application/xml;q=0.8,*/*;q=0.7\r\nConnection: keep-alive\r\n\r\n";

// How long the client waits for answers before it calls the exchange failed (no hang).
constexpr std::chrono::seconds read_timeout{10};

std::span<const std::byte> bytes(std::string_view s) noexcept { return std::as_bytes(std::span(s.data(), s.size())); }

// The server's answer to one plaintext request, captured by the first exchange; the
// baseline responder sends the same bytes. Date has a fixed width, so every answer of a
// route has the same length.
std::string plaintext_answer;

// A Unix socketpair as two non-blocking net::connections.
bool make_pair(net::connection& a, net::connection& b) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
    return false;
  a = net::connection(fds[0]);
  b = net::connection(fds[1]);
  return true;
}

// Reads exactly `n` bytes (all answers of a batch) into `buf`, keeping the last ones.
bool read_answers(net::connection& c, std::vector<std::byte>& buf, std::size_t n, std::string_view* tail) {
  std::size_t got = 0;
  std::size_t last = 0;
  while (got < n) {
    auto r = c.read_some(buf, dusty::after(read_timeout));
    if (!r || *r == 0)
      return false;
    got += *r;
    last = *r;
  }
  if (tail)
    *tail = std::string_view(reinterpret_cast<const char*>(buf.data()), last);
  return got == n;
}

// Runs the timed loop: the client side of an exchange with whatever serves `server_end`.
// It learns the answer's size from one request first; `learn_answer` receives that answer.
void client_loop(benchmark::State& state, net::connection& client, const std::string& request, int depth,
                 bool must_not_allocate, std::string* learn_answer) {
  std::string batch;
  for (int i = 0; i < depth; ++i)
    batch += request;
  std::vector<std::byte> buf(256 * 1024);

  // Warm-up with one request: learn the answer's size and check it.
  if (!client.write(bytes(request))) {
    state.SkipWithError("write failed");
    return;
  }
  auto r = client.read_some(buf, dusty::after(read_timeout));
  if (!r || *r == 0) {
    state.SkipWithError("no answer");
    return;
  }
  std::string first(reinterpret_cast<const char*>(buf.data()), *r);
  if (!first.starts_with("HTTP/1.1 200 OK\r\n")) {
    state.SkipWithError(("unexpected answer: " + first.substr(0, 40)).c_str());
    return;
  }
  if (learn_answer)
    *learn_answer = first;
  const std::size_t expect = first.size() * static_cast<std::size_t>(depth);
  // Two more warm-up batches (buffers, arena chunks, provided buffers all in place).
  for (int i = 0; i < 2; ++i)
    if (!client.write(bytes(batch)) || !read_answers(client, buf, expect, nullptr)) {
      state.SkipWithError("warm-up batch failed");
      return;
    }

  const auto before = dusty::perf::allocations();
  std::string_view tail;
  for (auto _ : state) {
    if (!client.write(bytes(batch)) || !read_answers(client, buf, expect, &tail)) {
      state.SkipWithError("exchange failed");
      return;
    }
  }
  const auto allocs = dusty::perf::allocations() - before;
  if (!tail.ends_with(std::string_view(first).substr(first.size() - 13))) {
    state.SkipWithError("last answer does not end like the first one");
    return;
  }
  const double per_request = static_cast<double>(allocs) / static_cast<double>(state.iterations() * depth);
  state.counters["allocs"] = per_request;
  if (must_not_allocate && allocs != 0)
    state.SkipWithError(("allocated on a path that must not allocate: " + std::to_string(per_request) +
                         " allocations per request")
                            .c_str());
  state.counters["ns_per_request"] = dusty::perf::time_per(state, depth);
  state.counters["answer_B"] = static_cast<double>(first.size());
  state.SetItemsProcessed(state.iterations() * depth);
}

// apps/hello's handlers on a server's routing table.
void add_hello_routes(http::detail::server_state& shared) {
  shared.routes.add(
      http::method::get, "/plaintext",
      [](http::request&, http::response& res) {
        res.content_type("text/plain");
        res.body = "Hello, World!";
      },
      {}, http::detail::any_method::no);
  shared.routes.add(
      http::method::get, "/json", [](http::request&, http::response& res) { res.json({{"message", "Hello, World!"}}); },
      {}, http::detail::any_method::no);
}

// serve_connection() on one end of a socketpair, in its own fiber, for as long as the
// object lives; the client end is for the benchmark.
struct served_connection {
  served_connection() : shared(http::server_config{}) {
    add_hello_routes(shared);
    ok = make_pair(server_end, client);
    if (ok)
      server = dusty::spawn([this] { http::h1::serve_connection(shared, server_end, control, stats, nullptr); });
  }
  ~served_connection() {
    (void)client.shutdown(net::shutdown_how::write);
    if (server.joinable())
      server.join();
  }
  http::detail::server_state shared;
  http::detail::connection_control control;
  http::server_stats stats;  // counted as a server's shard counts: part of the exchange's cost
  net::connection server_end, client;
  dusty::fiber server;
  bool ok = false;
};

void exchange(benchmark::State& state, backend_kind backend, bool json) {
  const int depth = static_cast<int>(state.range(0));
  dusty::perf::run_in_runtime(state, backend, 1, [&] {
    served_connection c;
    if (!c.ok) {
      state.SkipWithError("socketpair failed");
      return;
    }
    client_loop(state, c.client, json ? json_request : plaintext_request, depth, !json,
                json ? nullptr : &plaintext_answer);
  });
}
BENCHMARK_CAPTURE(exchange, io_uring/plaintext, backend_kind::io_uring, false)
    ->ArgName("depth")->Arg(1)->Arg(16)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(exchange, epoll/plaintext, backend_kind::epoll, false)
    ->ArgName("depth")->Arg(1)->Arg(16)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(exchange, io_uring/json, backend_kind::io_uring, true)
    ->ArgName("depth")->Arg(1)->Arg(16)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(exchange, epoll/json, backend_kind::epoll, true)
    ->ArgName("depth")->Arg(1)->Arg(16)->UseRealTime()->Apply(dusty::perf::spread);

// The responder of the baseline: answers every "\r\n\r\n" with `answer`, one write per
// read, like the ceiling responder of the macro suite.
void fixed_responder(net::connection& c, const std::string& answer, int max_depth) {
  std::string answers;
  for (int i = 0; i < max_depth; ++i)
    answers += answer;
  std::vector<std::byte> buf(64 * 1024);
  int matched = 0;  // how much of "\r\n\r\n" the previous read ended with
  for (;;) {
    auto r = c.read_some(buf);
    if (!r || *r == 0)
      return;
    std::size_t n = 0;
    for (std::size_t i = 0; i < *r; ++i) {
      const char ch = static_cast<char>(buf[i]);
      matched = ch == "\r\n\r\n"[matched] ? matched + 1 : (ch == '\r' ? 1 : 0);
      if (matched == 4) {
        ++n;
        matched = 0;
      }
    }
    while (n > 0) {
      const std::size_t k = std::min<std::size_t>(n, static_cast<std::size_t>(max_depth));
      if (!c.write(bytes(std::string_view(answers).substr(0, k * answer.size()))))
        return;
      n -= k;
    }
  }
}

void exchange_baseline(benchmark::State& state, backend_kind backend) {
  const int depth = static_cast<int>(state.range(0));
  dusty::perf::run_in_runtime(state, backend, 1, [&] {
    if (plaintext_answer.empty()) {
      // Ask a real server once for the bytes to send, when the exchange did not run.
      served_connection s;
      std::vector<std::byte> buf(4096);
      auto r = s.ok && s.client.write(bytes(plaintext_request)) ? s.client.read_some(buf) : dusty::result<std::size_t>(0);
      if (r && *r > 0)
        plaintext_answer.assign(reinterpret_cast<const char*>(buf.data()), *r);
    }
    if (plaintext_answer.empty()) {
      state.SkipWithError("could not capture the server's answer");
      return;
    }
    net::connection server_end, client;
    if (!make_pair(server_end, client)) {
      state.SkipWithError("socketpair failed");
      return;
    }
    auto server = dusty::spawn([&] { fixed_responder(server_end, plaintext_answer, depth); });
    client_loop(state, client, plaintext_request, depth, true, nullptr);
    (void)client.shutdown(net::shutdown_how::write);
    server.join();
  });
}
BENCHMARK_CAPTURE(exchange_baseline, io_uring, backend_kind::io_uring)
    ->ArgName("depth")->Arg(1)->Arg(16)->UseRealTime()->Apply(dusty::perf::spread);
BENCHMARK_CAPTURE(exchange_baseline, epoll, backend_kind::epoll)
    ->ArgName("depth")->Arg(1)->Arg(16)->UseRealTime()->Apply(dusty::perf::spread);

// A sink that drops everything: response_build measures the handler's side only.
class discard_sink final : public http::detail::response_sink {
 public:
  void send_head(const http::response&) override {}
  void send_piece(std::string_view) override {}
  void flush() override {}
};

template <class Fill>
void response_build(benchmark::State& state, Fill fill, bool must_not_allocate) {
  dusty::arena arena;
  discard_sink sink;
  auto once = [&] {
    http::response res(arena, sink, 64 * 1024);
    fill(res);
    benchmark::DoNotOptimize(res.body.view().data());
    benchmark::DoNotOptimize(res.headers().data());
    const bool ok = res.header("content-type").has_value() && !res.body.empty();
    arena.reset();
    return ok;
  };
  if (!once()) {
    state.SkipWithError("response not filled");
    return;
  }
  const auto before = dusty::perf::allocations();
  for (auto _ : state)
    once();
  if (must_not_allocate)
    dusty::perf::require_no_allocs(state, before);
  else
    dusty::perf::allocs_per_iteration(state, before);
}

void response_build_plaintext(benchmark::State& state) {
  response_build(
      state,
      [](http::response& res) {
        res.content_type("text/plain");
        res.body = "Hello, World!";
      },
      true);
}
BENCHMARK(response_build_plaintext)->Name("response_build/plaintext");

void response_build_json(benchmark::State& state) {
  response_build(state, [](http::response& res) { res.json({{"message", "Hello, World!"}}); }, false);
}
BENCHMARK(response_build_json)->Name("response_build/json");

void response_build_json_prebuilt(benchmark::State& state) {
  const nlohmann::json value = {{"message", "Hello, World!"}};
  response_build(state, [&](http::response& res) { res.json(value); }, false);
}
BENCHMARK(response_build_json_prebuilt)->Name("response_build/json_prebuilt");

}  // namespace

BENCHMARK_MAIN();
