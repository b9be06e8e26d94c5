#include <dusty/http/metrics.hpp>

#include <dusty/core/fiber.hpp>
#include <dusty/core/submit_to.hpp>
#include <dusty/http/client.hpp>
#include <dusty/http/detail/prometheus_text.hpp>
#include <dusty/net/tls/counters.hpp>

#include <charconv>
#include <chrono>
#include <optional>
#include <vector>

namespace dusty::http::detail {
namespace {

// What a shard's runtime counts for everything on it, not one server.
struct runtime_sample {
  std::size_t fibers = 0;
  net::tls::counters tls;
  client::pool_stats pools;
};

std::vector<runtime_sample> gather_runtime(const client* pools) {
  std::vector<future<runtime_sample>> parts;
  for (unsigned i = 0; i < shard_count(); ++i)
    parts.push_back(submit_to(i, [pools] {
      return runtime_sample{live_fibers(), net::tls::shard_counters(), pools ? pools->stats() : client::pool_stats{}};
    }));
  std::vector<runtime_sample> out;
  for (auto& p : parts) out.push_back(p.get());
  return out;
}

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

// Writes one family with a sample per shard; `value(i)` gives shard i's.
template <class Value>
void per_shard(prometheus_text& out, const std::vector<std::string>& shard_labels, std::string_view name,
               std::string_view type, std::string_view help, Value value) {
  out.family(name, type, help);
  for (std::size_t i = 0; i < shard_labels.size(); ++i) out.sample(name, shard_labels[i], value(i));
}

}  // namespace

void answer_metrics(response& res, std::span<const server_stats> stats, const client* pools) {
  auto rt = gather_runtime(pools);
  std::vector<std::string> shard;
  for (std::size_t i = 0; i < stats.size(); ++i) shard.push_back("shard=\"" + std::to_string(i) + "\"");
  using u64 = std::uint64_t;

  prometheus_text out;
  per_shard(out, shard, "dusty_http_connections_open", "gauge", "Open connections (handshaking, busy or idle).",
            [&](std::size_t i) { return u64{stats[i].connections_open}; });
  per_shard(out, shard, "dusty_http_connections_idle", "gauge", "Open connections waiting for a request.",
            [&](std::size_t i) { return u64{stats[i].connections_idle}; });
  per_shard(out, shard, "dusty_http_connections_parked", "gauge",
            "Idle connections holding no fiber (an input watch on the socket).",
            [&](std::size_t i) { return u64{stats[i].connections_parked}; });
  per_shard(out, shard, "dusty_http_connections_waiting", "gauge",
            "Connections with a request, waiting for a fiber (limits.max_active_connections).",
            [&](std::size_t i) { return u64{stats[i].connections_waiting}; });
  per_shard(out, shard, "dusty_http_connection_fibers", "gauge", "Fibers serving connections now.",
            [&](std::size_t i) { return u64{stats[i].connection_fibers}; });
  per_shard(out, shard, "dusty_http_draining", "gauge", "1 once a graceful stop has begun (/readyz answers 503).",
            [&](std::size_t i) { return u64{stats[i].draining}; });
  per_shard(out, shard, "dusty_http_connections_accepted_total", "counter", "Connections accepted and served.",
            [&](std::size_t i) { return stats[i].connections_accepted; });
  per_shard(out, shard, "dusty_http_connections_rejected_total", "counter",
            "Connections refused at limits.max_connections.",
            [&](std::size_t i) { return stats[i].connections_rejected; });

  out.family("dusty_http_requests_total", "counter", "Requests answered, by the class of the status sent.");
  static constexpr std::string_view classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  for (std::size_t i = 0; i < stats.size(); ++i)
    for (std::size_t c = 0; c < 5; ++c)
      out.sample("dusty_http_requests_total", shard[i] + ",status_class=\"" + std::string(classes[c]) + "\"",
                 stats[i].requests[c]);

  per_shard(out, shard, "dusty_http_received_bytes_total", "counter", "Bytes read from clients (inside TLS).",
            [&](std::size_t i) { return stats[i].bytes_received; });
  per_shard(out, shard, "dusty_http_sent_bytes_total", "counter", "Bytes written to clients (inside TLS).",
            [&](std::size_t i) { return stats[i].bytes_sent; });

  constexpr std::string_view latency = "dusty_http_request_duration_seconds";
  out.family(latency, "histogram", "From a request head's first byte to its answer written to the connection.");
  for (std::size_t i = 0; i < stats.size(); ++i) {
    const auto& h = stats[i].latency;
    u64 cumulative = 0;
    char le[32];
    for (std::size_t b = 0; b < h.bounds.size(); ++b) {
      cumulative += h.counts[b];
      auto end = std::to_chars(le, le + sizeof le, seconds(h.bounds[b])).ptr;
      out.sample("dusty_http_request_duration_seconds_bucket", shard[i] + ",le=\"" + std::string(le, end) + "\"",
                 cumulative);
    }
    out.sample("dusty_http_request_duration_seconds_bucket", shard[i] + ",le=\"+Inf\"", h.count);
    out.sample("dusty_http_request_duration_seconds_sum", shard[i], seconds(h.sum));
    out.sample("dusty_http_request_duration_seconds_count", shard[i], h.count);
  }

  per_shard(out, shard, "dusty_fibers", "gauge", "Fibers alive on the shard.",
            [&](std::size_t i) { return u64{rt[i].fibers}; });
  out.family("dusty_tls_handshakes_total", "counter", "TLS handshakes on the shard (server and client), by result.");
  for (std::size_t i = 0; i < stats.size(); ++i) {
    out.sample("dusty_tls_handshakes_total", shard[i] + ",result=\"ok\"", rt[i].tls.handshakes_ok);
    out.sample("dusty_tls_handshakes_total", shard[i] + ",result=\"failed\"", rt[i].tls.handshakes_failed);
  }
  per_shard(out, shard, "dusty_tls_resumed_total", "counter", "TLS handshakes that resumed a session.",
            [&](std::size_t i) { return rt[i].tls.resumed; });
  per_shard(out, shard, "dusty_tls_plaintext_http_total", "counter", "Plain HTTP requests sent to a TLS port.",
            [&](std::size_t i) { return rt[i].tls.plaintext_http; });
  out.family("dusty_tls_connections_total", "counter",
             "Established TLS connections by the path their records take: OpenSSL in user space or kTLS.");
  for (std::size_t i = 0; i < stats.size(); ++i) {
    out.sample("dusty_tls_connections_total", shard[i] + ",path=\"userspace\"", rt[i].tls.userspace_connections);
    out.sample("dusty_tls_connections_total", shard[i] + ",path=\"ktls\"", rt[i].tls.ktls_connections);
  }

  if (pools) {
    per_shard(out, shard, "dusty_client_connections_open", "gauge", "Client connections open (idle and in use).",
              [&](std::size_t i) { return u64{rt[i].pools.open}; });
    per_shard(out, shard, "dusty_client_connections_idle", "gauge", "Client connections idle in the pools.",
              [&](std::size_t i) { return u64{rt[i].pools.idle}; });
    per_shard(out, shard, "dusty_client_waiting_fibers", "gauge", "Fibers waiting for a pooled client connection.",
              [&](std::size_t i) { return u64{rt[i].pools.waiting}; });
    per_shard(out, shard, "dusty_client_connections_created_total", "counter", "Client connections opened.",
              [&](std::size_t i) { return rt[i].pools.created; });
    per_shard(out, shard, "dusty_client_requests_reused_total", "counter",
              "Client requests sent on a pooled connection.", [&](std::size_t i) { return rt[i].pools.reused; });
  }

  res.status = 200;
  res.content_type(prometheus_text::content_type);
  res.header("Cache-Control", "no-store");
  res.body = out.take();
}

}  // namespace dusty::http::detail
