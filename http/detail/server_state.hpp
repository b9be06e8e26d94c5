#pragma once
// What every connection of a server reads, whatever its protocol: the configuration and
// the routing table. Built before the server starts, immutable afterwards, shared by all
// shards.
#include <dusty/core/reactor.hpp>
#include <dusty/http/detail/dispatcher.hpp>
#include <dusty/http/server_config.hpp>

#include <functional>

namespace dusty::http::detail {

struct server_state {
  server_config config;
  dispatcher routes;

  explicit server_state(server_config c) : config(std::move(c)), routes(config.limits.max_params) {}
};

/// The per-connection flags the shard's server watches for graceful shutdown, and what
/// it needs to park an idle connection without a fiber.
struct connection_control {
  bool idle = true;       ///< Between requests, or parked (safe to cancel or close).
  bool draining = false;  ///< A stop has begun: the next answer says Connection: close.
  bool stopping = false;  ///< The server no longer accepts: finish this request, then close.

  /// The server can park this connection when it idles (h1::serve_connection then
  /// returns connection_end::parked).
  bool may_park = false;
  /// Set by the server while connections wait for a fiber (limits.max_active_connections):
  /// an idle connection then parks at once instead of holding its fiber a moment.
  const bool* fibers_scarce = nullptr;
  /// Whether the connection has served a request (its next wait is a keep-alive one).
  bool served = false;
  /// Written when the connection parks: the socket to watch, and when the idle wait ends
  /// (the keep-alive, or for a first request the head, timeout).
  int park_socket = -1;
  deadline idle_until{};
  /// Set by a handler that took the connection over (a WebSocket session) while it runs:
  /// called once when the server stops, so the session can close (1001) instead of being
  /// cancelled at the drain deadline. Must not suspend.
  std::move_only_function<void()> on_stop;
};

}  // namespace dusty::http::detail
