#pragma once
// Serving one HTTP/2 connection (RFC 9113) on libnghttp2, from the client's preface to
// the end, over any net::stream: h2c on a plain port (after the HTTP/1 loop has seen the
// preface, h2/preface.hpp) or h2 on a TLS port (ALPN). Requests go through the same
// detail::run_exchange as HTTP/1's, so handlers, middleware and error handlers do not
// know which protocol served them. Configuration: server_config::http2.
#include <dusty/http/detail/server_state.hpp>
#include <dusty/http/server_stats.hpp>
#include <dusty/net/buffered_stream.hpp>
#include <dusty/net/stream.hpp>

namespace dusty::http::h2 {

/// Whether serve_connection adds the connection's bytes to server_stats itself (the
/// HTTP/1 loop that handed a connection over counts them when it ends).
enum class count_bytes : bool { no, yes };

/// Serves `io` as HTTP/2 until the client closes, an error, a timeout or the server's
/// stop ends it (GOAWAY with the last stream processed; streams in flight finish within
/// timeouts.drain). `io` may already hold the client's first bytes. Each stream's
/// handler runs in a fiber of its own. Requests are counted in `stats` as they end.
/// Runs in the connection's fiber; suspends; never throws but cancelled_error, and only
/// after every fiber it started has ended. The caller closes the stream afterwards.
void serve_connection(const detail::server_state& state, net::buffered_stream& io, detail::connection_control& control,
                      server_stats& stats, void* app, count_bytes counting);

/// The same over a stream nothing has been read from (TLS after ALPN chose "h2").
void serve_connection(const detail::server_state& state, net::stream& stream, detail::connection_control& control,
                      server_stats& stats, void* app);

}  // namespace dusty::http::h2
