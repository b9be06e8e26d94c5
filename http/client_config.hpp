#pragma once
// Configuration of an HTTP client: every default here, each field saying its own.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace dusty::net::tls {
class context;
}  // namespace dusty::net::tls

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

/// How https:// connections are secured. The client builds one tls::context per distinct
/// setting (the first time a fetch needs it, then keeps it), never one per connection.
/// Policy: TLS 1.2 and 1.3 only, the server's certificate checked against the trust store
/// and the URL's host (DNS names against its DNS entries, IP literals against its IP
/// entries), SNI sent for DNS names, ALPN "http/1.1" offered, sessions resumed per pool.
struct client_tls_config {
  /// PEM file of the CAs to trust instead of the system's. Default: empty, meaning the
  /// system trust store (Debian: /etc/ssl/certs/ca-certificates.crt).
  std::string ca_file;
  /// PEM certificate chain presented when a server asks for one (mutual TLS).
  /// Default: empty (none).
  std::string cert_file;
  /// PEM private key of cert_file. Default: empty.
  std::string key_file;
  /// Skips certificate and host name verification. INSECURE: anyone on the path can read
  /// and change the traffic; for tests and debugging only (curl's -k). Default: false.
  bool insecure = false;
  /// Resume TLS sessions (tickets) on new connections of the same pool, which skips the
  /// certificate exchange. Default: true.
  bool session_resumption = true;
  /// A client context built by the caller (tls::context::client), shared as it is; when
  /// set, ca_file, cert_file, key_file and insecure are not read. Default: none.
  std::shared_ptr<const net::tls::context> context;

  friend bool operator==(const client_tls_config&, const client_tls_config&) = default;
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
  /// Resolving the host, then each address tried, then the TLS handshake (https), each
  /// on its own. Default: 10 s.
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
  /// TLS for https:// URLs. Default: see client_tls_config (system trust store, verified).
  client_tls_config tls{};
};

}  // namespace dusty::http
