#pragma once
// What every connection of a server reads, whatever its protocol: the configuration and
// the routing table. Built before the server starts, immutable afterwards, shared by all
// shards.
#include <dusty/http/detail/dispatcher.hpp>
#include <dusty/http/server_config.hpp>

#include <functional>

namespace dusty::http::detail {

struct server_state {
  server_config config;
  dispatcher routes;

  explicit server_state(server_config c) : config(std::move(c)), routes(config.limits.max_params) {}
};

/// The per-connection flags the shard's server watches for graceful shutdown.
struct connection_control {
  bool idle = true;       ///< Parked between requests (safe to cancel).
  bool draining = false;  ///< A stop has begun: the next answer says Connection: close.
  bool stopping = false;  ///< The server no longer accepts: finish this request, then close.
  /// Set by a handler that took the connection over (a WebSocket session) while it runs:
  /// called once when the server stops, so the session can close (1001) instead of being
  /// cancelled at the drain deadline. Must not suspend.
  std::move_only_function<void()> on_stop;
};

}  // namespace dusty::http::detail
