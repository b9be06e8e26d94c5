#pragma once
// permessage-deflate (RFC 7692) on zlib: negotiation, and raw DEFLATE in both directions
// without context takeover — each message is compressed and inflated on its own, so no
// zlib state outlives a message and an idle session holds none.
//
// Memory while a message is being handled: inflating, about 2^window_bits + 7 KiB
// (39 KiB at 15 bits) plus the message itself (bounded by the caller's limit); deflating,
// 2^(window_bits+2) + 128 KiB (256 KiB at 15 bits, zlib's memLevel 8). Nothing between
// messages. No I/O; any shard.
#include <dusty/http/fields.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dusty::http::ws {

/// What was agreed. dusty's server always answers with server_no_context_takeover and
/// client_no_context_takeover; its client always asks for server_no_context_takeover.
/// Either way no zlib state outlives a message.
struct deflate_params {
  /// The window the server's deflater may use: the client's server_max_window_bits (on a
  /// server), the server's (on a client), else 15.
  int server_max_window_bits = 15;
  /// The window the client's deflater may use: what the server answered with
  /// client_max_window_bits (9-15), else 15. Used by clients only.
  int client_max_window_bits = 15;
};

/// The first acceptable permessage-deflate offer among the Sec-WebSocket-Extensions fields
/// of `headers`, or nullopt. An offer with an unknown, repeated or malformed parameter is
/// declined, as is server_max_window_bits=8 (zlib's deflate cannot honour a 256-byte window).
std::optional<deflate_params> negotiate_deflate(std::span<const header_field> headers);

/// The Sec-WebSocket-Extensions value that accepts `p`.
std::string deflate_response(const deflate_params& p);

/// What a client offers (ws::connect): permessage-deflate with server_no_context_takeover
/// (the inflater keeps no context) and client_max_window_bits (any window is honoured).
inline constexpr std::string_view deflate_offer = "permessage-deflate; server_no_context_takeover; client_max_window_bits";

/// A client's reading of the server's Sec-WebSocket-Extensions answer to deflate_offer:
/// the parameters, or the reason it cannot be accepted (another extension, an unknown,
/// repeated or malformed parameter, server_no_context_takeover missing, or
/// client_max_window_bits=8, which zlib cannot deflate with).
struct deflate_answer {
  std::optional<deflate_params> params;
  std::string error;
};
deflate_answer accept_deflate_answer(std::string_view value);

/// Inflates one message's payload in pieces, never producing more than a limit.
class inflater {
 public:
  enum class result { ok, too_big, corrupt };
  inflater();
  ~inflater();
  inflater(const inflater&) = delete;
  inflater& operator=(const inflater&) = delete;

  /// Inflates `in` and appends to `out`; too_big as soon as `out` would pass `limit`
  /// (holding at most limit + 1 bytes), corrupt for invalid DEFLATE data.
  result inflate(std::string_view in, std::string& out, std::size_t limit);
  /// After the message's last piece: inflates the 00 00 FF FF tail the sender removed.
  result finish(std::string& out, std::size_t limit);

 private:
  void* stream_;        // z_stream
  bool ended_ = false;  // a final block (BFINAL) came: the message's data is over
};

/// Compresses `in` as one message: raw DEFLATE with a sync flush, without its 00 00 FF FF
/// tail (RFC 7692 section 7.2.1), at `window_bits` (9-15) and zlib level 1. Replaces `out`.
void deflate_message(std::string_view in, int window_bits, std::string& out);

}  // namespace dusty::http::ws
