#pragma once
// ws::connect: the client side of WebSocket. It resolves, connects (TLS for wss://),
// sends the opening handshake, checks the server's answer, and hands back the same
// ws::session a server handler gets, in the client role (it masks what it sends).
//
//   auto ws = http::ws::connect("ws://127.0.0.1:8080/echo", {.protocols = {"chat"}});
//   ws->send_text("hello");
//   if (auto m = ws->receive()) std::puts(m->data.c_str());
//   ws->close();                                          // 1000, waits for the server's close
//
// Checked in the answer (RFC 6455 section 4.1): status 101, Upgrade: websocket,
// Connection: upgrade, Sec-WebSocket-Accept for our key, a subprotocol we offered (or
// none), and no extension but permessage-deflate as offered (see connect_options::
// permessage_deflate). A redirect is refused, not followed (section 4.1 leaves it to the client; a
// redirect to another origin would carry our headers there): the error names the
// Location. Every failure throws http::client_error with a message naming the peer and
// the step, and a code: errc::timed_out, net::errc::*, or http::errc::invalid_response.
//
// Call from a fiber; the session belongs to the calling shard. The returned object owns
// the connection.
#include <dusty/http/client.hpp>  // client_error, client_tls_config
#include <dusty/http/server_config.hpp>
#include <dusty/http/ws/session.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dusty::net {
class stream;
class buffered_stream;
}  // namespace dusty::net

namespace dusty::http::ws {

struct connect_options {
  /// Subprotocols offered (Sec-WebSocket-Protocol), most preferred first. Default: none.
  std::vector<std::string> protocols;
  /// More request header fields (Origin, Authorization, Cookie), validated as
  /// http::validate_field does; the handshake's own fields cannot be replaced.
  std::vector<std::pair<std::string, std::string>> headers;
  /// Bounds resolving, connecting, the TLS handshake and the WebSocket handshake together.
  /// Default: 10 s.
  std::chrono::milliseconds connect_timeout{10'000};
  /// Each write of the session; a server that stops reading for longer ends it. Default: 30 s.
  std::chrono::milliseconds write_timeout{30'000};
  /// Frame and message limits, keep-alive pings, idle and close timeouts, outgoing queue:
  /// the same settings a server's sessions have.
  server_config::websocket_config limits;
  /// For wss://: trust store, client certificate, insecure (tests only).
  client_tls_config tls;
  /// Offer permessage-deflate (RFC 7692) with server_no_context_takeover and
  /// client_max_window_bits; the server's answer is honoured (its window for what we
  /// send, 9-15 bits), and an answer dusty cannot honour fails the connection. Messages
  /// are inflated as they arrive, never past limits.max_message_size (a compression bomb
  /// closes with 1009); no zlib state is kept between messages. Messages under 64 bytes
  /// are sent uncompressed. Default: true.
  bool permessage_deflate = true;
  /// The longest response head accepted. Default: 16 KiB.
  std::size_t max_head_size = 16 * 1024;
};

/// A connected client session: the connection, its buffer and the ws::session over them.
/// `ws->send_text(...)` reaches the session. Movable; destroying it closes the connection
/// at once (call close() before, for the close handshake).
class client_session {
 public:
  client_session(client_session&&) noexcept;  // defined where net::stream is complete
  client_session& operator=(client_session&&) noexcept;
  ~client_session();

  session& operator*() noexcept { return *session_; }
  session* operator->() noexcept { return session_.get(); }

 private:
  friend client_session connect(std::string_view, const connect_options&);
  client_session() = default;
  void reset() noexcept;
  std::unique_ptr<net::stream> stream_;
  std::unique_ptr<net::buffered_stream> io_;
  std::unique_ptr<session> session_;
};

/// Opens a session with the server at `url` (ws://, wss://; http:// and https:// are
/// taken as their WebSocket twins). Throws http::client_error; suspends.
client_session connect(std::string_view url, const connect_options& options = {});

}  // namespace dusty::http::ws
