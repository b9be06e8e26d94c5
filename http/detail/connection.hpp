#pragma once
// Serving one HTTP/1.x connection: the loop of its fiber, from the first byte to close.
#include <dusty/http/detail/dispatcher.hpp>
#include <dusty/http/detail/request_parser.hpp>
#include <dusty/http/detail/body_decoder.hpp>
#include <dusty/http/server_config.hpp>
#include <dusty/net/connection.hpp>

namespace dusty::http::detail {

/// What every connection of a server reads; immutable once the server has started.
struct server_shared {
  server_config config;
  dispatcher routes;
  parser_limits parser;
  body_limits body;

  explicit server_shared(server_config c);
};

/// The per-connection flags the shard's server watches for graceful shutdown.
struct connection_control {
  bool idle = true;       ///< Parked between requests (safe to cancel).
  bool draining = false;  ///< The server is stopping: finish this request, then close.
};

/// Serves `conn` until the client closes, an error or a timeout ends it, or the server
/// drains. `app` is the shard's application context, given to handlers through the
/// request. Runs in the connection's fiber; never throws but cancelled_error.
void serve_connection(const server_shared& shared, net::connection& conn, connection_control& control, void* app);

}  // namespace dusty::http::detail
