// dusty-load: an HTTP/1.1 and WebSocket load generator on dusty's runtime.
//
//   dusty-load -c 256 -d 10s http://127.0.0.1:8080/plaintext
//   dusty-load --ws --size 16384 -c 256 -d 10s ws://127.0.0.1:8080/ws
//   dusty-load -c 16 -d 10s --pipeline 16 -t 2 http://127.0.0.1:8080/
//   dusty-load -c 64 -d 30s --rate 20000 --json http://127.0.0.1:8080/json
//
// Connections are spread over the shards (-t, one pinned thread each). Closed loop by
// default; --rate R sends R requests per second on a fixed schedule and measures latency
// from each request's scheduled time. The report gives req/s, bytes/s, errors by kind,
// status counts and latency percentiles; --json prints the same as one JSON object.
// `dusty-load --help` lists the flags.
//
// Exit status: 0 after a run, 1 when the host cannot be resolved, 2 for bad flags.
#include "options.hpp"
#include "report.hpp"
#include "request.hpp"
#include "run.hpp"

#include <dusty/core/runtime.hpp>
#include <dusty/http/codec/url.hpp>
#include <dusty/net/tls/context.hpp>
#include <dusty/net/connection.hpp>
#include <dusty/net/resolver.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace load = dusty::load;
namespace http = dusty::http;

namespace {

int usage_error(const std::string& message) {
  std::fprintf(stderr, "dusty-load: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = load::parse_options(argc, argv);
  if (!parsed) return usage_error(parsed.error());
  const load::load_options& o = *parsed;
  if (o.help) {
    std::fputs(load::usage().c_str(), stdout);
    return 0;
  }
  // ws:// and wss:// are http:// and https:// to the URL parser (it knows their ports).
  std::string url_text = o.url;
  if (url_text.starts_with("ws://")) url_text = "http://" + url_text.substr(5);
  else if (url_text.starts_with("wss://")) url_text = "https://" + url_text.substr(6);
  else if (o.ws && !url_text.starts_with("http")) return usage_error("--ws: expected a ws:// or wss:// URL, got '" + o.url + "'");
  if (!o.ws && url_text != o.url) return usage_error("'" + o.url + "' is a WebSocket URL: add --ws");
  auto u = http::url::parse(url_text);
  if (!u) return usage_error("invalid URL '" + o.url + "': " + u.error().message());
  if (u->scheme == "http" && (o.cacert || o.insecure))
    return usage_error("--cacert and --insecure are for https:// URLs: '" + o.url + "'");
  std::string body;
  if (o.body_file) {
    std::ifstream in(*o.body_file, std::ios::binary);
    if (!in) return usage_error("--body: cannot read '" + *o.body_file + "'");
    body.assign(std::istreambuf_iterator<char>(in), {});
  }

  load::load_plan plan;
  plan.request = o.ws ? load::build_ws_handshake(o, *u) : load::build_request(o, *u, body);
  plan.ws = o.ws;
  if (o.ws) plan.ws_frame = load::build_ws_frame(o.message_size);
  plan.head_request = o.method == "HEAD";
  plan.connections = o.connections;
  plan.shards = o.shards;
  plan.pipeline = o.pipeline;
  plan.rate = o.rate;
  plan.timeout = o.timeout;
  if (u->scheme == "https") {
    dusty::net::tls::client_config tls;
    tls.ca_file = o.cacert.value_or("");
    tls.insecure = o.insecure;
    tls.alpn = {"http/1.1"};
    try {
      plan.tls = dusty::net::tls::context::client(tls);  // once, before the shards start
    } catch (const dusty::net::tls::config_error& e) {
      return usage_error(e.what());
    }
    plan.tls_host = u->host;
    plan.tls_resume = o.resume;
  }

  dusty::runtime_config config;
  config.shards = o.shards;
  config.backend = o.backend;
  try {
    dusty::runtime rt(config);
    return rt.run([&]() -> int {
      auto addrs = dusty::net::resolver::local().resolve(u->host, u->port, dusty::after(o.timeout));
      if (!addrs) {
        std::fprintf(stderr, "dusty-load: cannot resolve %s: %s\n", u->host.c_str(), addrs.error().message().c_str());
        return 1;
      }
      // Use the first address that accepts a connection ("localhost" may give ::1 first
      // to a server listening on 127.0.0.1 only); if none does, the first, and the run
      // counts the connect errors.
      plan.address = addrs->front();
      for (auto& a : *addrs) {
        if (addrs->size() == 1) break;
        if (auto probe = dusty::net::connect(a, dusty::after(o.timeout))) {
          plan.address = a;
          break;
        }
      }
      bool progress = ::isatty(STDERR_FILENO) == 1;
      auto r = load::run_load(plan, o.duration, progress);
      load::run_summary s{.options = o,
                          .url = o.ws ? o.url : u->to_string(),
                          .backend = std::string(dusty::to_string(rt.backend())),
                          .elapsed = r.elapsed,
                          .stats = r.stats,
                          .interrupted = r.interrupted};
      if (o.json)
        std::fputs((load::json_report(s).dump() + "\n").c_str(), stdout);
      else
        std::fputs(load::text_report(s).c_str(), stdout);
      std::fflush(stdout);
      return 0;
    });
  } catch (const dusty::config_error& e) {
    return usage_error(e.what());
  }
}
