#pragma once
// The opening handshake (RFC 6455 section 4), server side: is this request a WebSocket
// upgrade we accept, and what does the 101 say. No I/O; any shard.
#include <dusty/http/request.hpp>
#include <dusty/http/ws/deflate.hpp>

#include <optional>

#include <string>
#include <string_view>
#include <vector>

namespace dusty::http::ws {

/// What one websocket() route accepts.
struct route_options {
  /// Subprotocols this route speaks, most preferred first. The first one the client also
  /// offers (Sec-WebSocket-Protocol) is chosen; none in common, or none offered, means no
  /// subprotocol (the client then decides whether to go on). Default: none.
  std::vector<std::string> protocols;
  /// Origin values allowed (exact match, e.g. "https://example.com"); another Origin is
  /// refused with 403. Requests without Origin (non-browser clients) are accepted. Empty:
  /// any origin — browsers then let every site's pages open sessions with the user's
  /// cookies (cross-site WebSocket hijacking). Default: empty.
  std::vector<std::string> origins;
  /// Accept permessage-deflate (RFC 7692) when the client offers it, always without
  /// context takeover in either direction (no zlib state between messages; see
  /// ws/deflate.hpp for the memory a message costs). Messages under 64 bytes are sent
  /// uncompressed. Default: true.
  bool permessage_deflate = true;
};

/// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)).
std::string accept_key(std::string_view key);

struct handshake_answer {
  /// 101 to accept; else 400 (malformed), 403 (Origin refused) or 426 (not a WebSocket
  /// upgrade, or a version other than 13: answered with Sec-WebSocket-Version: 13).
  unsigned status = 101;
  /// Why it was refused (the answer's body).
  std::string_view reason;
  /// Sec-WebSocket-Accept (when accepted).
  std::string accept;
  /// The chosen subprotocol, or empty.
  std::string protocol;
  /// permessage-deflate, when agreed (Sec-WebSocket-Extensions: deflate_response(*deflate)).
  std::optional<deflate_params> deflate;
};

/// Checks an upgrade request: GET over HTTP/1.1 with Upgrade: websocket, Connection:
/// upgrade, Sec-WebSocket-Version: 13, a Sec-WebSocket-Key of 16 base64-encoded bytes,
/// and an allowed Origin; picks the subprotocol and, if allowed, permessage-deflate. Other
/// extensions offered are declined.
handshake_answer check_handshake(const request& req, const route_options& options);

}  // namespace dusty::http::ws
