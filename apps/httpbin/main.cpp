// dusty-httpbin: an httpbin-compatible HTTP request & response service (the endpoints of
// httpbin.org, answering like Debian's python3-httpbin 0.7.0), and the framework's larger
// example: routes split by topic (routes_*.cpp), middleware for httpbin's CORS headers and
// response compression, and the form, multipart, range and conditional-request helpers.
//
//   dusty-httpbin --port 8000 --shards 2 --backend io_uring
//   curl -s localhost:8000/get?x=1
//
// Beyond httpbin: /healthz, /readyz (http/health.hpp) and /metrics (http/metrics.hpp).
//
// Exit status: 0 after SIGINT/SIGTERM, 2 for a configuration it cannot run.
#include "httpbin.hpp"

#include <dusty/http/health.hpp>
#include <dusty/http/metrics.hpp>
#include <dusty/http/middleware/compress.hpp>

#include <serve_http.hpp>

#include <string>

namespace {

namespace http = dusty::http;

// httpbin answers every request with CORS headers that allow any origin, credentials
// included, and answers every OPTIONS request itself as a preflight. The headers are
// set before next() so that streamed responses, whose head leaves early, carry them too.
void cors(http::request& req, http::response& res, const http::next& next) {
  auto origin = req.header("Origin");
  res.header("Access-Control-Allow-Origin", origin ? *origin : std::string_view("*"));
  res.header("Access-Control-Allow-Credentials", "true");
  if (req.method() != http::method::options) return next();
  res.header("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, PATCH, OPTIONS");
  res.header("Access-Control-Max-Age", "3600");
  if (auto h = req.header("Access-Control-Request-Headers")) res.header("Access-Control-Allow-Headers", *h);
  res.header("Allow", "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE");
  res.content_type("text/html; charset=utf-8");
}

}  // namespace

int main(int argc, char** argv) {
  auto configure = [](http::server_config& config) {
    config.server_name = "dusty-httpbin";
    // Uploads to /post and /anything are echoed whole, so they are read whole: 10 MiB.
    config.limits.max_body_size = 10 * 1024 * 1024;
    config.limits.max_query_params = 256;
    if (config.tls.enabled()) httpbin::own_scheme = "https";
  };
  auto install = [](http::server<>& srv) {
    srv.use(cors);
    srv.use(http::compress());
    httpbin::install_request_routes(srv);
    httpbin::install_response_routes(srv);
    httpbin::install_auth_routes(srv);
    http::mount_health(srv);
    http::mount_metrics(srv);
  };
  return dusty::apps::serve_http(argc, argv, "dusty-httpbin", 8000, configure, install);
}
