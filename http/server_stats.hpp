#pragma once
// server_stats: what one shard of a server has counted — connections, requests by status
// class, bytes, and a request latency histogram. server<App>::stats() collects one per
// shard over the cross-core queues; http/metrics.hpp renders them for Prometheus.
//
// The counters are plain integers owned by the shard and bumped by its own thread as
// requests end: no atomics, no locks, no allocation, a few additions and one clock read
// per request (perf/http/response_bench.cpp's exchange measures it, README "Health and
// metrics"). Read them only on their shard, or as the copies server::stats() returns.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace dusty::http {

/// Request latency in fixed buckets, as a Prometheus histogram keeps it: counts[i] holds
/// the requests that took at most bounds[i] (and more than bounds[i - 1]); the last count
/// those slower than every bound (le="+Inf").
struct latency_histogram {
  /// Upper bounds: 100 µs to 10 s, roughly 1-2.5-5 per decade (Prometheus' default
  /// buckets with two below 1 ms, where a server answering from memory lives).
  static constexpr std::array<std::chrono::nanoseconds, 16> bounds = {
      std::chrono::microseconds(100), std::chrono::microseconds(250), std::chrono::microseconds(500),
      std::chrono::milliseconds(1),   std::chrono::microseconds(2500), std::chrono::milliseconds(5),
      std::chrono::milliseconds(10),  std::chrono::milliseconds(25),  std::chrono::milliseconds(50),
      std::chrono::milliseconds(100), std::chrono::milliseconds(250), std::chrono::milliseconds(500),
      std::chrono::seconds(1),        std::chrono::milliseconds(2500), std::chrono::seconds(5),
      std::chrono::seconds(10)};

  std::array<std::uint64_t, bounds.size() + 1> counts{};  ///< Not cumulative; last: +Inf.
  std::uint64_t count = 0;                                 ///< Every observation.
  std::chrono::nanoseconds sum{0};                         ///< Their total.

  void observe(std::chrono::nanoseconds d) noexcept {
    std::size_t i = 0;
    while (i < bounds.size() && d > bounds[i]) ++i;  // most requests stop at the first bucket
    ++counts[i];
    ++count;
    sum += d;
  }
};

struct server_stats {
  // ---- gauges, filled in by server::stats() ----
  std::size_t connections_open = 0;     ///< Open now (handshaking, busy, idle or waiting).
  std::size_t connections_idle = 0;     ///< Of those, waiting for a request (parked or not).
  std::size_t connections_parked = 0;   ///< Of the idle ones, those holding no fiber.
  std::size_t connections_waiting = 0;  ///< With a request, waiting for a fiber (limits.max_active_connections).
  std::size_t connection_fibers = 0;    ///< Fibers serving connections now (active, or idle a moment).
  std::size_t fibers = 0;               ///< Every live fiber of the shard (dusty::live_fibers()).
  bool draining = false;             ///< A stop has begun (server::draining()).

  // ---- counters, since start() ----
  std::uint64_t connections_accepted = 0;  ///< Connections served (given a fiber).
  std::uint64_t connections_rejected = 0;  ///< Refused with 503 (or closed, TLS) at limits.max_connections.
  /// Requests answered, by the class of the status sent: [0] 1xx ... [4] 5xx. A request
  /// counts once its exchange ends (the answer written, the client gone or the handler
  /// failed after the head), with the status its response had then; the server's own
  /// answers to bad heads (400, 408, 414, 431) count too. A WebSocket upgrade is a 1xx
  /// that ends with its session.
  std::array<std::uint64_t, 5> requests{};
  std::uint64_t bytes_received = 0;  ///< Bytes read from clients (after TLS decryption).
  std::uint64_t bytes_sent = 0;      ///< Bytes written to clients (before TLS encryption).
  /// From the first byte of a request's head to its response handed to the connection
  /// (the last bytes of it may still be in the socket's buffer).
  latency_histogram latency;

  /// Counts one request that ended with `status` (100-599; others count as 5xx) after
  /// `elapsed`. Never suspends; call on the stats' shard.
  void count_request(unsigned status, std::chrono::nanoseconds elapsed) noexcept {
    unsigned cls = status / 100;
    ++requests[cls >= 1 && cls <= 5 ? cls - 1 : 4];
    latency.observe(elapsed);
  }
};

}  // namespace dusty::http
