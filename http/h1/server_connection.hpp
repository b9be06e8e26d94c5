#pragma once
// Serving one HTTP/1.x connection: the loop of its fiber, from the first byte to close,
// over any net::stream (a TCP or Unix socket, or TLS).
#include <dusty/http/detail/server_state.hpp>
#include <dusty/http/server_stats.hpp>
#include <dusty/net/stream.hpp>

namespace dusty::http::h1 {

/// How serve_connection returned.
enum class connection_end {
  closed,  ///< The connection is done: the caller closes the stream.
  parked,  ///< Idle, with nothing buffered: the caller watches control.park_socket until
           ///< control.idle_until and calls serve_connection again when input arrives.
};

/// Serves `stream` until the client closes, an error or a timeout ends it, or the server
/// drains: reads each request head, runs it through detail::run_exchange, writes the
/// answer. `app` is the shard's application context, given to handlers through the
/// request. Each request, and the bytes read and written, are counted in `stats` (the
/// shard's) as they end. Runs in the connection's fiber; never throws but
/// cancelled_error.
///
/// With control.may_park, a connection that waits for its next request longer than a
/// moment (idle_hold) returns `parked` instead of holding its fiber, with everything it
/// allocated freed; serving it again later starts from the next request.
connection_end serve_connection(const detail::server_state& state, net::stream& stream,
                                detail::connection_control& control, server_stats& stats, void* app);

/// How long an idle connection keeps its fiber (and the memory serving a request left it)
/// before it parks or gives that memory back: long enough that a busy connection's next
/// request nearly always comes first, so keeping it costs a busy connection nothing.
inline constexpr std::chrono::milliseconds idle_hold{250};

}  // namespace dusty::http::h1
