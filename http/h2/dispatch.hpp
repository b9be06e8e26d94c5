#pragma once
// The HTTP/1 loop's door to HTTP/2 on a plain port: h2c with prior knowledge (RFC 9113
// section 3.3), recognised by the client's preface before the HTTP/1 parser sees it.
#include <dusty/http/detail/server_state.hpp>
#include <dusty/http/server_stats.hpp>
#include <dusty/net/buffered_stream.hpp>

namespace dusty::http::h2 {

enum class handover {
  not_http2,  ///< Not an HTTP/2 preface (or h2c is off): go on with HTTP/1.
  served,     ///< It was HTTP/2, served to its end: close the connection.
  failed,     ///< The client stalled or left inside the preface: close the connection.
};

/// Called by the HTTP/1 loop once the first bytes of a connection are in `io`: with
/// http2.enabled and http2.h2c, serves the connection as HTTP/2 if they are the
/// preface. Suspends (the preface may come slowly, within timeouts.request_head, and the
/// whole HTTP/2 connection is served here); throws only cancelled_error.
handover take_prior_knowledge(const detail::server_state& state, net::buffered_stream& io,
                              detail::connection_control& control, server_stats& stats, void* app);

}  // namespace dusty::http::h2
