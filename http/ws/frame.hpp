#pragma once
// The WebSocket frame codec (RFC 6455 section 5), with no I/O: frame headers in and out,
// masking, close codes, and `reader`, which turns received bytes into messages and
// control frames and enforces the protocol's rules and the configured limits.
//
//   ws::reader rd({.max_frame_size = 1 << 20, .max_message_size = 1 << 20});
//   std::size_t used = 0;
//   ws::event ev = rd.next(bytes, used);          // consumes up to all of `bytes`
//   // ev.kind: need_more, message, ping, pong, close, or error (ev.code: the close code)
//
// Nothing here suspends; a reader belongs to one session (one shard).
#include <dusty/http/ws/deflate.hpp>
#include <dusty/http/ws/utf8.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace dusty::http::ws {

enum class opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// Control frames (close, ping, pong): at most 125 bytes of payload, never fragmented.
constexpr bool is_control(opcode op) noexcept { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

/// Close status codes (RFC 6455 section 7.4.1; 1012-1014 registered with IANA since).
/// Applications use 3000-4999.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
inline constexpr std::uint16_t no_status = 1005;  ///< Never sent: the close frame had no code.
inline constexpr std::uint16_t abnormal = 1006;   ///< Never sent: the connection dropped.
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t message_too_big = 1009;
inline constexpr std::uint16_t mandatory_extension = 1010;
inline constexpr std::uint16_t internal_error = 1011;
}  // namespace close_code

/// Whether `code` may appear in a close frame: 1000-1003, 1007-1014 and 3000-4999.
/// 1004-1006 and 1015 are reserved, the rest of 1000-2999 unassigned.
constexpr bool close_code_valid(std::uint16_t code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

using mask_key = std::array<std::byte, 4>;

struct frame_header {
  bool fin = true;
  std::uint8_t rsv = 0;         ///< RSV1..RSV3 as bits 2..0 (RSV1 = 4).
  std::uint8_t opcode = 0;      ///< Raw, possibly reserved (see ws::opcode).
  bool masked = false;
  mask_key mask{};
  std::uint64_t length = 0;     ///< As sent: may be anything up to 2^64-1.
};

/// The longest frame header: 2 bytes, 8 of extended length, 4 of mask key.
inline constexpr std::size_t max_header_size = 14;

/// Parses the frame header at the start of `in`: the number of bytes it takes (2..14), or
/// 0 when `in` does not hold all of it yet. Any encoding is taken (also a non-minimal
/// length); judging the header is the reader's job.
std::size_t parse_header(std::span<const std::byte> in, frame_header& out) noexcept;

/// Writes a header with the shortest length encoding; returns its size. With `mask`, the
/// MASK bit and key are written too (a client's frames).
std::size_t write_header(std::span<std::byte, max_header_size> out, opcode op, bool fin, std::uint64_t length,
                         const mask_key* mask = nullptr, std::uint8_t rsv = 0) noexcept;

/// XORs `data` with `key`, as if `data` began `offset` bytes into the payload.
void apply_mask(std::span<std::byte> data, const mask_key& key, std::size_t offset = 0) noexcept;

/// Appends a whole unmasked frame (a server's) to `out`.
void append_frame(std::string& out, opcode op, std::string_view payload, bool fin = true);

/// The payload of a close frame: the code in network order, then the reason (cut to fit
/// 125 bytes at a UTF-8 boundary). `code` no_status gives an empty payload.
std::string close_payload(std::uint16_t code, std::string_view reason);

struct reader_config {
  /// Largest frame payload; more: error 1009, decided from the header alone.
  std::size_t max_frame_size = 1024 * 1024;
  /// Largest message, all fragments together; more: error 1009.
  std::size_t max_message_size = 1024 * 1024;
  /// A server reads masked frames (the client must mask, section 5.1); a client unmasked.
  bool expect_masked = true;
  /// permessage-deflate was agreed: RSV1 on a message's first frame marks it compressed; it
  /// is inflated as it arrives, never past max_message_size (a compression bomb is 1009),
  /// with no context kept between messages.
  bool deflate = false;
};

enum class event_kind : std::uint8_t { need_more, message, piece, ping, pong, close, error };

/// How reader::next() hands out a message: whole (assembled until its last byte), or in
/// pieces as its payload arrives (for messages too large to hold at once).
enum class delivery : std::uint8_t { whole, pieces };

struct event {
  event_kind kind = event_kind::need_more;
  /// message, piece: text or binary.
  ws::opcode type = ws::opcode::binary;
  /// message: the whole message, or with delivery::pieces its last piece (possibly empty);
  /// piece: the message's bytes received since the last piece, not its end (for both,
  /// reader::take_message() moves them out); ping, pong: the
  /// payload; close: the reason; error: what was wrong. Valid until the next call.
  std::string_view payload;
  /// close: the peer's code (no_status when it sent none); error: the code to close with
  /// (1002 protocol, 1007 bad UTF-8, 1009 too big).
  std::uint16_t code = 0;
};

/// Reads frames as they arrive, in any split: validates every header (reserved bits and
/// opcodes, masking, control-frame rules, continuation order, the limits — before a byte of
/// payload is kept), unmasks, validates text as UTF-8 as it arrives (across fragments and
/// reads), and reassembles fragmented messages; control frames may come between fragments.
/// After an error it keeps answering that error.
class reader {
 public:
  explicit reader(reader_config config = {}) noexcept : config_(config) {}

  /// Consumes from `in` until an event is complete or `in` runs out; `used` says how many
  /// bytes it took (payload bytes are taken as they come: `in` never needs to hold more than
  /// a header). need_more: feed it more.
  ///
  /// With delivery::pieces, when `in` runs out inside a message whose bytes have not been
  /// handed out yet, the event is a piece (its bytes, validated so far: a text piece may
  /// end inside a UTF-8 sequence, the next one completes it); the message's end is a
  /// message event holding the rest. max_message_size still bounds the whole message.
  /// The two ways may alternate: a message begun in pieces may be finished whole (the
  /// message event then holds what was not handed out yet).
  event next(std::span<const std::byte> in, std::size_t& used, delivery how = delivery::whole);

  /// After a message or piece event: its bytes, moved out.
  std::string take_message() noexcept {
    delivered_ += message_.size();
    return std::exchange(message_, {});
  }
  /// True while a fragmented message is incomplete.
  bool in_message() const noexcept { return in_message_; }

 private:
  event fail(std::uint16_t code, std::string_view why) noexcept;

  reader_config config_;
  frame_header frame_;
  std::uint64_t left_ = 0;      // payload bytes of the current frame still to come
  std::size_t mask_pos_ = 0;    // payload bytes of the current frame seen so far
  bool in_frame_ = false;
  bool in_message_ = false;
  ws::opcode message_type_ = ws::opcode::binary;
  std::string message_;
  std::uint64_t delivered_ = 0;  // bytes of the current message already handed out as pieces
  std::array<char, 125> control_{};
  std::size_t control_len_ = 0;
  utf8_validator utf8_;
  bool compressed_ = false;           // the current message is (permessage-deflate)
  std::uint64_t compressed_size_ = 0;
  std::unique_ptr<inflater> inflater_;  // only while a compressed message arrives
  std::string scratch_;                 // unmasked compressed bytes on their way in
  std::uint16_t error_code_ = 0;
  std::string_view error_;
};

}  // namespace dusty::http::ws
