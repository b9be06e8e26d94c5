#pragma once
// Incremental request-body decoder for Content-Length and chunked framing.
//
// The decoder is a small state machine over a byte stream delivered in pieces of any size.
// It never copies and never allocates: each call returns a view of body bytes inside the
// input it was given. Chunk extensions are validated for forbidden bytes and otherwise
// ignored; trailer fields are validated and skipped. Sizes are 64-bit with overflow
// detection.
//
// Threading: one decoder per request, used from the connection's fiber; never suspends.

#include <dusty/http/server_config.hpp>
#include <dusty/http/h1/request_parser.hpp>
#include <dusty/http/error.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

namespace dusty::http::h1 {

/// Limits applied while decoding a body.
struct body_limits {
  /// Most body bytes (after removing chunked framing); above it: `body_too_large` (413).
  /// A declared Content-Length or chunk size that would exceed it fails at once, before any
  /// of its bytes arrive. Default: 1 MiB.
  std::uint64_t max_body_size = server_config::limits_config{}.max_body_size;
  /// Longest chunk-size line (size, extensions), without CRLF; above it: `invalid_chunk`.
  /// Bounds the work spent on extensions, which are ignored. Default: 4 KiB.
  std::size_t max_chunk_line = 4 * 1024;
  /// Most bytes of the trailer section after the last chunk (fields with their CRLFs and
  /// the final CR); above it: `header_too_large` (431). Default: 16 KiB.
  std::size_t max_trailer_size = 16 * 1024;
};

/// Decodes one request body. Construct with `body_decoder::create()` from a parsed head,
/// then call `decode()` with the bytes that follow the head until `done()`.
///
/// \code
///   auto dec = body_decoder::create(head, limits);     // may fail: 413 before reading
///   while (!dec->done()) {
///       if (in.empty()) in = read_more();
///       auto piece = dec->decode(in);                   // may fail: 400, 413, 431
///       consume(piece->data);
///       in.remove_prefix(piece->consumed);
///   }
///   // `in` now starts at the next pipelined request, if any.
/// \endcode
class body_decoder {
 public:
  /// What one `decode()` call produced.
  struct piece {
    std::size_t consumed = 0;  ///< Bytes of the input used up, framing and data included.
    std::string_view data;     ///< Body bytes: a view into the input (possibly empty).
  };

  /// A decoder for a message without body; `done()` at once.
  body_decoder() noexcept = default;

  /// A decoder for the body `framing` and `content_length` describe (the fields of the same
  /// name in `request_head`). Fails with `body_too_large` when the declared length already
  /// exceeds `limits.max_body_size`.
  static result<body_decoder> create(body_framing framing, std::uint64_t content_length,
                                     const body_limits& limits = {});

  /// Same, taking framing and length from `head`.
  static result<body_decoder> create(const request_head& head, const body_limits& limits = {}) {
    return create(head.framing, head.content_length, limits);
  }

  /// Consumes bytes of `input` up to and including the next run of body bytes, and
  /// returns that run. Makes progress whenever `input` is not empty and the body is not
  /// done: `consumed` is then at least 1. Never consumes past the end of the body. After an
  /// error the decoder is unusable (the connection's framing is lost).
  result<piece> decode(std::string_view input);

  /// True once the whole body, including a chunked body's trailer section, was consumed.
  bool done() const noexcept { return state_ == state::done; }

  /// Body bytes returned so far.
  std::uint64_t body_size() const noexcept { return body_size_; }

  /// The framing this decoder handles.
  body_framing framing() const noexcept { return framing_; }

 private:
  enum class state : std::uint8_t {
    done,
    identity,   // Content-Length: `remaining_` bytes left
    size,       // chunk-size hex digits
    size_ws,    // BWS after the size; only ';' may follow
    extension,  // chunk-ext, up to CR
    size_lf,    // LF after the chunk-size line
    data,       // `remaining_` bytes of chunk data left
    data_cr,    // CRLF after chunk data
    data_lf,
    trailer_start,  // a trailer field or the final CRLF
    trailer_name,
    trailer_value,
    trailer_lf,
    final_lf,
    failed,
  };

  std::error_code fail(errc e) noexcept;

  body_limits limits_;
  body_framing framing_ = body_framing::none;
  state state_ = state::done;
  errc error_ = errc::invalid_chunk;  // sticky, once `failed`
  bool size_digits_ = false;          // at least one hex digit seen in the current size
  std::uint64_t remaining_ = 0;       // chunk or Content-Length bytes left; chunk size while parsing it
  std::uint64_t body_size_ = 0;
  std::size_t line_size_ = 0;  // chunk-size line or trailer bytes so far
};

}  // namespace dusty::http::h1
