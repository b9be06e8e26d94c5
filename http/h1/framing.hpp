#pragma once
// How an HTTP/1 message body is delimited (RFC 9112 section 6.3): the one framing type of
// requests and responses alike.
#include <cstdint>

namespace dusty::http::h1 {

enum class body_framing : std::uint8_t {
  none,            ///< No body (no length fields, Content-Length: 0, HEAD, 1xx, 204, 304).
  content_length,  ///< Exactly the declared Content-Length bytes follow the head.
  chunked,         ///< Chunked transfer coding; decode with `body_decoder`.
  until_close,     ///< Responses only: the body ends when the server closes the connection.
};

}  // namespace dusty::http::h1
