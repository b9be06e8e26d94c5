#pragma once
// An HTTP/2 request's fields, as the protocol-neutral request_head a handler reads.
#include <dusty/http/h2/stream.hpp>
#include <dusty/http/request_head.hpp>

namespace dusty::http::h2 {

/// Fills `head` from what the stream's HEADERS carried (nghttp2 has checked the
/// pseudo-header fields and the field syntax, RFC 9113 section 8.3). Joins split Cookie
/// fields into one (section 8.2.3) and gives a request without Host one from
/// :authority, so handlers see what HTTP/1 would give them. False for a request target
/// the server does not serve (CONNECT's authority form; a path not starting with '/').
/// Never suspends; allocates in the stream's arena.
bool make_request_head(stream& st, request_head& head);

}  // namespace dusty::http::h2
