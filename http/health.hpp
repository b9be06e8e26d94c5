#pragma once
// Health endpoints for load balancers and orchestrators, mounted on a server:
//
//   dusty::http::server<> srv(config);
//   dusty::http::mount_health(srv);        // GET/HEAD /healthz and /readyz
//
// - /healthz (liveness): 200 "ok" whenever the server answers at all. A process that
//   cannot answer it is stuck and may be restarted (Kubernetes' livenessProbe).
// - /readyz (readiness): 200 "ready" while the server takes new work; 503 "draining"
//   from the moment stop() begins (server::draining(), each shard's own flag), so a load
//   balancer that probes it stops sending before the process stops. With
//   server_config::timeouts.drain_notice the server goes on serving for that long with
//   /readyz failing; on Kubernetes a preStop sleep gives the same time (docker/k8s/).
//
// Both answer from the shard that took the connection, with no cross-core call and no
// allocation beyond the response's own, and say Cache-Control: no-store so that no
// cache in between answers for the server. They run behind the server's global
// middleware (server::use), like every route.
#include <dusty/http/server.hpp>

#include <string>
#include <string_view>

namespace dusty::http {

struct health_options {
  /// The liveness path. Default: "/healthz".
  std::string live_path = "/healthz";
  /// The readiness path. Default: "/readyz".
  std::string ready_path = "/readyz";
};

namespace detail {
/// Fills `res` with a health answer: 200 or 503, text/plain, the body `text` (borrowed:
/// a literal).
void answer_health(response& res, bool ok, std::string_view text);
}  // namespace detail

/// Registers the two routes on `srv` (before start(), like every route). `srv` must
/// outlive its serving, as it always does. Throws std::invalid_argument when a path is
/// already taken.
template <class App>
void mount_health(server<App>& srv, const health_options& options = {}) {
  srv.get(options.live_path, [](request&, response& res) { detail::answer_health(res, true, "ok\n"); });
  srv.get(options.ready_path, [&srv](request&, response& res) {
    bool ready = !srv.draining();
    detail::answer_health(res, ready, ready ? "ready\n" : "draining\n");
  });
}

}  // namespace dusty::http
