// dusty-hello: the README's example and the HTTP benchmark target.
//
//   GET /, /plaintext   Hello, World!                       (text/plain)
//   GET /json           {"message":"Hello, World!"}
//   GET /user/:id       {"id":"<id>","name":"John Doe"}
//   GET /events         a few Server-Sent Events, one every 100 ms
//   GET /bytes/1m       1 MiB of 'x' (application/octet-stream; the macro suite's large answer)
//   POST /upload        reads the body piece by piece and answers its size in bytes
//                       (text/plain; the macro suite's 64 KiB request, perf/macro/)
//   GET /ws             WebSocket echo: each text or binary message comes back as sent
//   GET /broadcast      WebSocket: every message a session sends goes to every session
//                       of /broadcast on every shard (ws::topics; the broadcast figure
//                       of perf/macro/websocket.sh)
//   GET /healthz        200 while the process serves (http/health.hpp)
//   GET /readyz         200, and 503 once a graceful stop (SIGTERM) has begun
//   GET /metrics        Prometheus metrics, per shard (http/metrics.hpp)
//
//   dusty-hello --port 8080 --shards 2 --backend io_uring
//
// Exit status: 0 after SIGINT/SIGTERM, 2 for a configuration it cannot run.
#include <dusty/http/health.hpp>
#include <dusty/http/metrics.hpp>
#include <dusty/http/server.hpp>
#include <dusty/http/ws/topics.hpp>

#include <serve_http.hpp>

#include <chrono>
#include <memory>
#include <cstdio>
#include <string>
#include <string_view>

namespace http = dusty::http;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<http::ws::topics> routes(http::server<>& srv) {
  auto hello = [](http::request&, http::response& res) {
    res.content_type("text/plain");
    res.body = "Hello, World!";
  };
  srv.get("/", hello);
  srv.get("/plaintext", hello);
  srv.get("/json", [](http::request&, http::response& res) { res.json({{"message", "Hello, World!"}}); });
  srv.get("/user/:id", [](http::request& req, http::response& res) {
    res.json({{"id", req.param("id")}, {"name", "John Doe"}});
  });
  srv.get("/events", [](http::request&, http::response& res) {
    auto events = res.start_event_stream();
    for (int i = 1; i <= 5; ++i) {
      std::string n = std::to_string(i);
      events.send({.data = "tick " + n, .event = "tick", .id = n});
      dusty::sleep_for(100ms);
    }
  });
  // Borrowed, not copied: one static 1 MiB buffer for every answer.
  srv.get("/bytes/1m", [](http::request&, http::response& res) {
    static const std::string mebibyte(1 << 20, 'x');
    res.content_type("application/octet-stream");
    res.body = std::string_view(mebibyte);
  });
  // Streams the body without keeping it, as nginx discards it (perf/macro/nginx.conf.in).
  srv.post("/upload", [](http::request& req, http::response& res) {
    std::size_t size = 0;
    while (auto piece = req.read_body_some()) size += piece->size();
    res.content_type("text/plain");
    res.body = std::to_string(size);
  });
  srv.websocket("/ws", [](http::request&, http::ws::session& ws) {
    while (auto m = ws.receive()) ws.send(*m);
  });
  auto topics = std::make_unique<http::ws::topics>();
  topics->start();
  srv.websocket("/broadcast", [t = topics.get()](http::request&, http::ws::session& ws) {
    t->subscribe(ws, "all");
    while (auto m = ws.receive()) t->publish("all", *m);
  });
  http::mount_health(srv);
  http::mount_metrics(srv);
  return topics;  // kept by serve_http until the server has stopped
}

}  // namespace

int main(int argc, char** argv) {
  return dusty::apps::serve_http(argc, argv, "dusty-hello", 8080, [](http::server_config&) {}, routes);
}
