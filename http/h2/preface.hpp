#pragma once
// Telling HTTP/2 with prior knowledge (h2c) from HTTP/1 on a plain port: an HTTP/2 client
// opens with a fixed 24-byte preface (RFC 9113 section 3.4), which no valid HTTP/1
// request starts with (the method PRI exists for that reason).
#include <dusty/core/reactor.hpp>
#include <dusty/net/buffered_stream.hpp>

#include <string_view>

namespace dusty::http::h2 {

/// The client connection preface.
inline constexpr std::string_view client_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum class sniffed {
  http2,  ///< The whole preface is buffered: serve HTTP/2.
  other,  ///< The input cannot be the preface: HTTP/1 (or garbage), for the HTTP/1 parser.
  failed, ///< The connection ended or timed out in the middle of a preface.
};

/// Looks at the first bytes of a connection (io.data() holds at least one): fills until
/// they are the whole preface or differ from it. Consumes nothing. Suspends while the
/// client sends the preface slowly, until `until`. Call from the connection's fiber.
sniffed sniff_preface(net::buffered_stream& io, deadline until);

}  // namespace dusty::http::h2
