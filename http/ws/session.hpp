#pragma once
// ws::session: one WebSocket connection after the upgrade, driven by the fiber that owns
// it (the connection's fiber, inside the handler given to srv.websocket()).
//
//   srv.websocket("/echo", [](http::request& req, ws::session& ws) {
//     while (auto msg = ws.receive())     // suspends; std::nullopt once closed
//       ws.send(*msg);                    // suspends while the socket is full
//   });
//
// receive() answers pings, reassembles fragmented messages, validates text as UTF-8,
// sends keep-alive pings and ends the session for a dead peer (server_config::websocket).
// When the handler returns, a still-open session is closed with 1000; when it throws,
// with 1011. When the server stops gracefully, every open session is sent 1001 (going
// away) at once; receive() returns std::nullopt when the peer answers, and a session
// still running at timeouts.drain is cancelled like any busy connection. A protocol violation by the peer closes it with the RFC's code (1002, 1007,
// 1009) and receive() returns std::nullopt.
//
// Threading: everything on the session's shard. receive() and close() from the session's
// fiber; send(), send_text(), send_binary(), ping() and post() may also come from other
// fibers of the shard (they queue behind the frame being written, up to max_queued_bytes).
#include <dusty/core/fiber.hpp>
#include <dusty/core/result.hpp>
#include <dusty/core/wait_queue.hpp>
#include <dusty/http/handler.hpp>
#include <dusty/http/server_config.hpp>
#include <dusty/http/ws/frame.hpp>
#include <dusty/http/ws/handshake.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sys/uio.h>

namespace dusty::net {
class buffered_stream;
}

namespace dusty::http::ws {

enum class message_type : std::uint8_t { text, binary };

struct message {
  message_type type = message_type::text;
  std::string data;

  bool is_text() const noexcept { return type == message_type::text; }
  bool is_binary() const noexcept { return type == message_type::binary; }
};

/// Part of a message, from session::receive_some().
struct message_piece {
  message_type type = message_type::text;
  /// The bytes that arrived since the last piece (possibly empty for `last`). A text
  /// piece may end inside a UTF-8 sequence; the message as a whole is validated.
  std::string data;
  /// The message's first piece.
  bool first = false;
  /// The message's last piece: the next one begins another message.
  bool last = false;

  bool is_text() const noexcept { return type == message_type::text; }
  bool is_binary() const noexcept { return type == message_type::binary; }
};

/// How a session ended.
struct close_status {
  /// The code of the close handshake (the peer's when it closed first, ours when we did);
  /// 1006 (close_code::abnormal) when the connection ended without one.
  std::uint16_t code = close_code::abnormal;
  std::string reason;
};

/// Which end of the connection a session is: a client masks the frames it sends and
/// reads unmasked ones (RFC 6455 section 5.1); a server the reverse.
enum class role : std::uint8_t { server, client };

class session {
 public:
  /// A session over `io` (after the 101). `write_timeout` bounds each write
  /// (server_config::timeouts.write): a peer that stops reading for longer is dropped.
  /// `deflate`: permessage-deflate was agreed in the handshake.
  session(net::buffered_stream& io, const server_config::websocket_config& config,
          std::chrono::milliseconds write_timeout, std::string protocol = {},
          std::optional<deflate_params> deflate = std::nullopt, ws::role side = ws::role::server);
  session(const session&) = delete;
  session& operator=(const session&) = delete;
  /// Runs the on_end() callbacks, then cancels a post() still being written.
  ~session();

  /// The next text or binary message; std::nullopt once the session is closed (by either
  /// side, a violation, a timeout, or the connection dropping). Suspends.
  std::optional<message> receive();

  /// The next piece of a message, as its bytes arrive, without assembling the message in
  /// memory: each piece holds what one read brought (at most a read buffer's worth, or
  /// what that inflated to with permessage-deflate). Pieces of one message come in order,
  /// `first` on the first, `last` on the last; control frames are handled between them as
  /// receive() does. max_message_size still bounds the whole message (1009), and text is
  /// still validated as UTF-8 across pieces: invalid bytes close the session with 1007
  /// and receive_some() returns std::nullopt, possibly after pieces of that message were
  /// handed out. std::nullopt once closed. Suspends. receive() after a piece that was not
  /// the last returns the rest of that message.
  ///
  ///   while (auto p = ws.receive_some()) {
  ///     file.write(p->data);
  ///     if (p->last) break;
  ///   }
  std::optional<message_piece> receive_some();

  /// Sends a message as one frame. Suspends until the kernel has taken it; false when the
  /// session is closed or closing (nothing is sent). Except while more of the peer's input
  /// is already buffered (the next receive() returns at once): then up to 64 KiB of frames
  /// are held and go out together in one write as soon as the calling fiber waits (in
  /// receive(), or anywhere else), and send() returns true at once. A send from another fiber while one
  /// is being written waits in the queue; when the queue would pass max_queued_bytes the
  /// session is closed with 1008 and this send returns false. A text message must be
  /// valid UTF-8 (not checked).
  bool send(const message& m) { return send_data(m.is_text() ? opcode::text : opcode::binary, m.data); }
  bool send_text(std::string_view text) { return send_data(opcode::text, text); }
  bool send_binary(std::string_view bytes) { return send_data(opcode::binary, bytes); }
  /// Sends a ping (at most 125 bytes). Suspends; false when closed.
  bool ping(std::string_view payload = {});

  /// Queues a whole frame encoded beforehand (encode_frame()), shared by every session it
  /// is posted to, and returns at once: the frame is written by the fiber already writing
  /// to this session, or else by a fiber started for it. False when the session is closed
  /// or closing, or when the frame would pass max_queued_bytes behind the one being
  /// written: the session is then closed with 1008, as send() does. Never suspends; a
  /// slow peer holds up nobody but itself. For one message to many sessions (ws::topics).
  /// Server sessions only (false for a client: its frames must be masked).
  bool post(std::shared_ptr<const std::string> frame);

  /// Runs `fn` once when the session is destroyed (after the handler has returned), on
  /// its shard: for services that keep a pointer to the session (ws::topics). Never
  /// suspends; `fn` must not either.
  void on_end(std::move_only_function<void()> fn) { on_end_.push_back(std::move(fn)); }

  /// Starts the close handshake: sends a close frame with `code` (1000-1003, 1007-1014,
  /// 3000-4999; else 1000 is sent) and `reason` (UTF-8, cut to 123 bytes), then, from the
  /// session's fiber, waits up to close_timeout for the peer's close frame, discarding
  /// messages. From another fiber while the session's fiber is in receive(), only sends:
  /// receive() then finishes the handshake and returns std::nullopt. No-op once closing.
  void close(std::uint16_t code = close_code::normal, std::string_view reason = {});

  /// Starts the close handshake like close(), but never suspends: the close frame goes
  /// behind the frame being written, or is written by a fiber started for it (as post()
  /// does). receive() then returns std::nullopt once the peer answers (or close_timeout
  /// after it wakes). Any fiber of the session's shard; no-op once closing. The server's
  /// stop uses it to say 1001 (going away) to every open session.
  void close_async(std::uint16_t code, std::string_view reason = {});

  /// True until the close handshake starts (or the connection ends).
  bool is_open() const noexcept { return state_ == state::open; }
  /// How the session ended (or is ending); code 1006 while it is still open.
  const close_status& closed_with() const noexcept { return closed_with_; }
  /// The subprotocol agreed in the handshake, or empty.
  std::string_view subprotocol() const noexcept { return protocol_; }
  ws::role side() const noexcept { return role_; }
  /// Whether permessage-deflate was agreed in the handshake.
  bool permessage_deflate() const noexcept { return deflate_bits_ != 0; }

 private:
  enum class state : std::uint8_t { open, closing, closed };

  bool send_data(opcode op, std::string_view payload);
  // receive() and receive_some(): the next message or piece, with its type and whether
  // it ends the message.
  std::optional<std::string> next_data(delivery how, opcode& type, bool& last);
  bool write_frame(opcode op, std::string_view payload, std::uint8_t rsv = 0);
  // The header of a frame we send (masked by a client, `key` then filled); its size.
  std::size_t own_header(std::span<std::byte, max_header_size> head, opcode op, std::size_t length, mask_key& key,
                         std::uint8_t rsv = 0) const;
  bool enqueue(std::string_view head, std::string_view payload, opcode op);
  bool cork(opcode op, std::string_view head, std::string_view payload);
  bool write_then_flush(std::span<const iovec> first);
  void start_close(std::uint16_t code, std::string_view reason);
  void fail(std::uint16_t code, std::string_view reason);
  void linger() noexcept;
  void drop(std::uint16_t code, std::string_view reason) noexcept;
  std::chrono::steady_clock::time_point next_deadline() const noexcept;
  result<std::size_t> wait_for_input();
  void on_timer();

  net::buffered_stream& io_;
  server_config::websocket_config config_;
  std::chrono::milliseconds write_timeout_;
  std::string protocol_;
  int deflate_bits_ = 0;  // permessage-deflate: our window bits; 0 when not agreed
  ws::role role_;
  reader reader_;
  state state_ = state::open;
  close_status closed_with_;
  std::chrono::steady_clock::time_point last_rx_;
  std::chrono::steady_clock::time_point ping_sent_;
  std::chrono::steady_clock::time_point close_deadline_;
  bool ping_outstanding_ = false;
  bool receiving_ = false;
  bool mid_message_ = false;  // receive_some() handed out a piece that was not the last
  // Outgoing: one fiber writes at a time; the others queue their frames here.
  bool writing_ = false;
  bool corked_ = false;  // frames are held in pending_ for a poster that has not run yet
  std::string pending_;
  std::uint64_t queued_gen_ = 0;
  std::uint64_t flushed_gen_ = 0;
  std::uint64_t dropped_gen_ = 0;
  wait_queue written_;
  fiber poster_;  // writes what post() queued when no other fiber was writing
  std::vector<std::move_only_function<void()>> on_end_;
};

/// A server's (unmasked) frame holding `payload` whole, ready for session::post(): built
/// once, sent to any number of sessions. Never compressed (permessage-deflate lets a
/// message go uncompressed, RFC 7692 section 6).
std::shared_ptr<const std::string> encode_frame(opcode op, std::string_view payload);

namespace detail {
using session_handler = std::function<void(request&, session&)>;
/// The GET handler behind srv.websocket(): checks the handshake (refusing with
/// 400/403/426), answers 101, takes the connection over and runs `fn` on a session.
handler upgrade_handler(route_options options, session_handler fn);
}  // namespace detail

}  // namespace dusty::http::ws
