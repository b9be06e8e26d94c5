#pragma once
// /metrics for Prometheus (text exposition format 0.0.4), mounted on a server:
//
//   dusty::http::server<> srv(config);
//   dusty::http::mount_metrics(srv);                          // GET /metrics
//   dusty::http::mount_metrics(srv, {.pools = &my_client});   // with the client's pools
//
// A scrape gathers every shard's numbers over the cross-core queues (one round trip per
// shard for the server's counters, one for the runtime's), so it costs nothing between
// scrapes: requests only bump plain per-shard integers (http/server_stats.hpp). Every
// sample carries shard="N"; sum over the label for the process (sum by (pod) (...)).
//
//   dusty_http_connections_open, _idle          gauge    open now; of those, idle
//   dusty_http_connections_parked, _waiting     gauge    idle with no fiber; with a request,
//                                                        waiting for a fiber
//   dusty_http_connection_fibers                gauge    fibers serving connections
//   dusty_http_draining                         gauge    1 once stop() has begun
//   dusty_http_connections_accepted_total       counter  connections served
//   dusty_http_connections_rejected_total       counter  refused at limits.max_connections
//   dusty_http_requests_total{status_class}     counter  "1xx" ... "5xx"
//   dusty_http_received_bytes_total, _sent_     counter  HTTP bytes (inside TLS)
//   dusty_http_request_duration_seconds         histogram  head's first byte to answer
//                                                          written; 100 µs ... 10 s
//   dusty_fibers                                gauge    fibers alive on the shard
//   dusty_tls_handshakes_total{result}          counter  "ok", "failed" (server and client)
//   dusty_tls_resumed_total                     counter  handshakes that resumed a session
//   dusty_tls_plaintext_http_total              counter  plain HTTP sent to the TLS port
//   dusty_tls_connections_total{path}           counter  established TLS connections by who
//                                                        encrypts: "userspace" (OpenSSL) or
//                                                        "ktls" (the kernel; always 0 today,
//                                                        net/tls/counters.hpp)
//   dusty_client_connections_open, _idle        gauge    with options.pools
//   dusty_client_waiting_fibers                 gauge    waiting for a pooled connection
//   dusty_client_connections_created_total      counter
//   dusty_client_requests_reused_total          counter  sent on a pooled connection
//
// The TLS and fiber numbers are the shard's, whatever server or client caused them.
#include <dusty/http/server.hpp>
#include <dusty/http/server_stats.hpp>

#include <span>
#include <string>

namespace dusty::http {

class client;

struct metrics_options {
  /// The path. Default: "/metrics".
  std::string path = "/metrics";
  /// A client whose connection pools to report too (client::stats() of each shard); it
  /// must outlive the server's serving. Default: none.
  const client* pools = nullptr;
};

namespace detail {
/// Answers a scrape: gathers each shard's fibers, TLS counters and `pools` over the
/// cross-core queues and renders them after `stats` (server::stats()). Suspends.
void answer_metrics(response& res, std::span<const server_stats> stats, const client* pools);
}  // namespace detail

/// Registers GET (and HEAD) `options.path` on `srv` (before start(), like every route).
/// Throws std::invalid_argument when the path is already taken.
template <class App>
void mount_metrics(server<App>& srv, const metrics_options& options = {}) {
  srv.get(options.path, [&srv, pools = options.pools](request&, response& res) {
    detail::answer_metrics(res, srv.stats(), pools);
  });
}

}  // namespace dusty::http
