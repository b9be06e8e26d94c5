#pragma once
// Configuration of an HTTP client: every default here, each field saying its own.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace dusty::http {

/// When to try a request again. Only idempotent methods (GET, HEAD, PUT, DELETE,
/// OPTIONS, TRACE) are retried: after connection errors (refused, reset, closed before
/// the response) and after 502, 503 and 504 answers. The wait before retry n (1-based)
/// is a random duration in [0, min(max_delay, base_delay * 2^(n-1))] ("full jitter"),
/// or the answer's Retry-After (seconds or HTTP date) when it is longer, capped at
/// max_delay.
struct retry_policy {
  /// Retries after the first attempt; 0: never retry. Default: 2.
  unsigned max_retries = 2;
  /// The cap of the first wait; doubles with each retry. Default: 100 ms.
  std::chrono::milliseconds base_delay{100};
  /// The longest wait, Retry-After included. Default: 5 s.
  std::chrono::milliseconds max_delay{5000};
};

/// Client-wide settings; fetch_options override the per-request ones.
struct client_config {
  /// Open connections per (scheme, host, port) per shard; more fetches wait (FIFO).
  /// Default: 64.
  std::size_t max_connections_per_host = 64;
  /// Idle connections kept per host per shard; the rest are closed when released.
  /// Default: 32.
  std::size_t max_idle_per_host = 32;
  /// A pooled connection idle this long is closed instead of reused. Default: 60 s.
  std::chrono::milliseconds idle_timeout{60'000};
  /// Resolving the host, and then each address tried. Default: 10 s.
  std::chrono::milliseconds connect_timeout{10'000};
  /// The whole fetch, redirects and retries included; zero: no limit. Default: 0.
  std::chrono::milliseconds request_timeout{0};
  /// Longest wait for the next bytes of a response. Default: 30 s.
  std::chrono::milliseconds read_timeout{30'000};
  /// Redirects followed at most; 0 returns the 3xx answer itself. Default: 10.
  unsigned max_redirects = 10;
  /// When to try again. Default: see retry_policy.
  retry_policy retry{};
  /// Most body bytes (after decoding) body() and read_some() deliver. Default: 8 MiB.
  std::uint64_t max_response_size = 8 * 1024 * 1024;
  /// Longest response head (status line and fields). Default: 64 KiB.
  std::size_t max_head_size = 64 * 1024;
  /// Ask for gzip/deflate and decode them. Default: true.
  bool decompress = true;
  /// Keep a cookie jar per shard and use it for every fetch. Default: false.
  bool cookies = false;
  /// User-Agent header; empty: none. Default: "dusty".
  std::string user_agent = "dusty";
};

}  // namespace dusty::http
