#pragma once
// The request dusty-load sends: serialised once per run, then written as the same bytes
// on every connection, so the hot path never formats anything.
#include "options.hpp"

#include <dusty/http/codec/url.hpp>

#include <string>
#include <string_view>

namespace dusty::load {

/// "METHOD target HTTP/1.1", Host (the URL's authority unless -H gives one), the -H fields
/// in order, Content-Length when there is a body, the empty line, then the body. No
/// User-Agent or Connection field: the same bytes wrk sends for the same flags.
std::string build_request(const load_options& o, const http::url& u, std::string_view body);

/// --ws: the opening handshake (GET with Upgrade: websocket, a fixed Sec-WebSocket-Key,
/// no extension offered: the messages go uncompressed), with Host and the -H fields as
/// build_request() has them.
std::string build_ws_handshake(const load_options& o, const http::url& u);

/// --ws: one binary message of `size` bytes as a client frame. Its mask key is fixed: a
/// load generator chooses every byte it sends anyway (RFC 6455's masking guards against
/// scripts in browsers), and the frame is built once, not per message.
std::string build_ws_frame(std::size_t size);

}  // namespace dusty::load
