#pragma once
// Serving one HTTP/1.x connection: the loop of its fiber, from the first byte to close,
// over any net::stream (a TCP or Unix socket, or TLS).
#include <dusty/http/detail/server_state.hpp>
#include <dusty/http/server_stats.hpp>
#include <dusty/net/stream.hpp>

namespace dusty::http::h1 {

/// Serves `stream` until the client closes, an error or a timeout ends it, or the server
/// drains: reads each request head, runs it through detail::run_exchange, writes the
/// answer. `app` is the shard's application context, given to handlers through the
/// request. Each request, and the bytes read and written, are counted in `stats` (the
/// shard's) as they end. Runs in the connection's fiber; never throws but
/// cancelled_error. The caller closes the stream afterwards.
void serve_connection(const detail::server_state& state, net::stream& stream, detail::connection_control& control,
                      server_stats& stats, void* app);

}  // namespace dusty::http::h1
