#include "report.hpp"

#include <cstdio>
#include <utility>

namespace dusty::load {

namespace {

// The percentiles both reports show, with their JSON keys.
constexpr std::pair<double, const char*> shown_percentiles[] = {
    {50, "p50"}, {90, "p90"}, {99, "p99"}, {99.9, "p99.9"}};

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Three significant digits, as "1.23", "12.3", "123".
std::string significant(double v) {
  if (v >= 100) return fixed(v, 0);
  if (v >= 10) return fixed(v, 1);
  return fixed(v, 2);
}

std::string pad_left(std::string s, std::size_t width) {
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  return s;
}

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

double per_second(std::uint64_t n, std::chrono::nanoseconds elapsed) {
  double s = seconds(elapsed);
  return s > 0 ? static_cast<double>(n) / s : 0.0;
}

}  // namespace

std::string format_latency(double ns) {
  if (ns < 1e3) return significant(ns) + "ns";
  if (ns < 1e6) return significant(ns / 1e3) + "us";
  if (ns < 1e9) return significant(ns / 1e6) + "ms";
  return significant(ns / 1e9) + "s";
}

std::string format_bytes(double bytes) {
  if (bytes < 1024) return fixed(bytes, 0) + " B";
  if (bytes < 1024.0 * 1024) return fixed(bytes / 1024, 2) + " KiB";
  if (bytes < 1024.0 * 1024 * 1024) return fixed(bytes / (1024.0 * 1024), 2) + " MiB";
  return fixed(bytes / (1024.0 * 1024 * 1024), 2) + " GiB";
}

std::string text_report(const run_summary& s) {
  const auto& o = s.options;
  const auto& st = s.stats;
  std::string r;
  r += "dusty-load: " + format_duration(o.duration) + " @ " + s.url;
  if (s.interrupted) r += " (interrupted after " + fixed(seconds(s.elapsed), 2) + "s)";
  r += "\n";
  r += "  " + std::to_string(o.connections) + (o.connections == 1 ? " connection" : " connections") + " on " +
       std::to_string(o.shards) + (o.shards == 1 ? " shard" : " shards") + " (" + s.backend + "), ";
  const char* per = o.ws ? " msg/s" : " req/s";
  if (o.ws) r += "WebSocket echo of " + std::to_string(o.message_size) + "-byte messages, ";
  r += o.rate ? "open loop at " + fixed(*o.rate, *o.rate < 10 ? 2 : 0) + per : std::string("closed loop");
  if (o.pipeline > 1) r += ", pipeline " + std::to_string(o.pipeline);
  r += "\n";

  const auto& h = st.latency;
  r += "  Latency";
  for (auto& [p, name] : shown_percentiles) r += pad_left(name, 10);
  r += pad_left("max", 10) + pad_left("mean", 10) + "\n";
  r += "         ";
  for (auto& [p, name] : shown_percentiles)
    r += pad_left(format_latency(static_cast<double>(h.value_at_percentile(p))), 10);
  r += pad_left(format_latency(static_cast<double>(h.max())), 10) + pad_left(format_latency(h.mean()), 10) + "\n";

  if (!o.ws) r += "  Status  ";
  bool any = false;
  for (std::size_t code = 0; code < st.status.size(); ++code) {
    if (!st.status[code]) continue;
    r += std::string(any ? ", " : "") + (code ? std::to_string(code) : std::string("other")) + ": " +
         std::to_string(st.status[code]);
    any = true;
  }
  if (!any && !o.ws) r += "no responses";
  if (!o.ws) r += "\n";

  r += "  Errors  ";
  for (std::size_t k = 0; k < error_kinds; ++k)
    r += std::string(k ? ", " : "") + std::string(to_string(static_cast<error_kind>(k))) + " " +
         std::to_string(st.errors[k]);
  r += "; status >= 500: " + std::to_string(st.server_errors()) + "\n";

  r += "  " + std::to_string(st.responses) + (o.ws ? " echoes in " : " responses in ") + fixed(seconds(s.elapsed), 2) + "s, " +
       format_bytes(static_cast<double>(st.bytes_read)) + " read, " + format_bytes(static_cast<double>(st.bytes_written)) +
       " written, " + std::to_string(st.connects) + (st.connects == 1 ? " connection" : " connections") + " opened\n";
  if (s.url.starts_with("https://") || s.url.starts_with("wss://")) {
    r += "  TLS     " + std::to_string(st.tls_handshakes) + (st.tls_handshakes == 1 ? " handshake" : " handshakes") + " (" +
         fixed(per_second(st.tls_handshakes, s.elapsed), 2) + "/s), " + std::to_string(st.tls_resumed) + " resumed\n";
  }
  r += (o.ws ? "Messages/sec: " : "Requests/sec: ") + fixed(per_second(st.responses, s.elapsed), 2) + "\n";
  r += "Transfer/sec: " + format_bytes(per_second(st.bytes_read, s.elapsed)) + "\n";
  return r;
}

nlohmann::json json_report(const run_summary& s) {
  const auto& o = s.options;
  const auto& st = s.stats;
  const auto& h = st.latency;
  nlohmann::json latency = {{"count", h.count()},
                            {"min", static_cast<double>(h.min()) / 1e3},
                            {"mean", h.mean() / 1e3},
                            {"max", static_cast<double>(h.max()) / 1e3}};
  for (auto& [p, name] : shown_percentiles) latency[name] = static_cast<double>(h.value_at_percentile(p)) / 1e3;
  nlohmann::json errors = nlohmann::json::object();
  for (std::size_t k = 0; k < error_kinds; ++k) errors[std::string(to_string(static_cast<error_kind>(k)))] = st.errors[k];
  nlohmann::json status = nlohmann::json::object();
  for (std::size_t code = 0; code < st.status.size(); ++code)
    if (st.status[code]) status[code ? std::to_string(code) : std::string("other")] = st.status[code];
  nlohmann::json out = {
      {"tool", "dusty-load"},
      {"url", s.url},
      {"method", o.method},
      {"connections", o.connections},
      {"shards", o.shards},
      {"pipeline", o.pipeline},
      {"rate", o.rate ? nlohmann::json(*o.rate) : nlohmann::json(nullptr)},
      {"backend", s.backend},
      {"duration_s", seconds(s.elapsed)},
      {"interrupted", s.interrupted},
      {"requests", st.responses},
      {"requests_per_sec", per_second(st.responses, s.elapsed)},
      {"bytes_read", st.bytes_read},
      {"bytes_read_per_sec", per_second(st.bytes_read, s.elapsed)},
      {"bytes_written", st.bytes_written},
      {"connects", st.connects},
      {"tls_handshakes", st.tls_handshakes},
      {"tls_handshakes_per_sec", per_second(st.tls_handshakes, s.elapsed)},
      {"tls_resumed", st.tls_resumed},
      {"errors", errors},
      {"errors_total", st.total_errors()},
      {"status_5xx", st.server_errors()},
      {"status", status},
      {"latency_us", latency},
  };
  if (o.ws) {
    // An echo counts as a request: "requests" and "requests_per_sec" are messages too.
    out["websocket"] = true;
    out["message_size"] = o.message_size;
    out["messages"] = st.responses;
    out["messages_per_sec"] = per_second(st.responses, s.elapsed);
  }
  return out;
}

std::string progress_line(std::chrono::nanoseconds since_start, const progress_counts& delta,
                          std::chrono::nanoseconds interval, std::uint64_t total_errors) {
  return pad_left(fixed(seconds(since_start), 0) + "s", 6) + pad_left(fixed(per_second(delta.responses, interval), 0), 12) +
         " req/s" + pad_left(format_bytes(per_second(delta.bytes_read, interval)), 14) + "/s  " +
         std::to_string(total_errors) + (total_errors == 1 ? " error" : " errors");
}

}  // namespace dusty::load
