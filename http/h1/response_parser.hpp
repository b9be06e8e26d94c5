#pragma once
// Incremental, allocation-free HTTP/1.0 and HTTP/1.1 response-head parser on top of llhttp
// (strict mode, HTTP_RESPONSE), the client-side twin of request_parser.
//
// The parser reads the status line and the header section and stops at the end of the
// head: the body and any pipelined responses after it stay in the caller's buffer. The
// body is then read with `body_decoder` (content_length, chunked) or up to the end of
// the connection (until_close), as `response_head::framing` says.
//
// A response cannot be framed without knowing the request: the answer to a HEAD has no
// body whatever its fields say (RFC 9112 section 6.3), so `reset()` is told which kind of
// request the next response answers.
//
// Interim responses (1xx, e.g. 100 Continue, 103 Early Hints) are parsed like any other
// head and reported with `response_head::informational()`; the caller drops them
// (consume the head, `reset()`, parse again) and waits for the final response. 101
// Switching Protocols is reported too: a client that did not ask for an upgrade treats it
// as an error.
//
// Errors: everything malformed is `errc::invalid_response` (bad status line, version other
// than 1.0/1.1, bad field, Content-Length with Transfer-Encoding, Transfer-Encoding in an
// HTTP/1.0 response, a transfer coding other than chunked before chunked); a head longer
// than `response_limits::max_head_size`, or with more than `max_headers` fields, is
// `errc::response_too_large`. An error is detected at the first offending byte, so it does
// not depend on how the input was split between calls.
//
// Threading: a parser belongs to one connection and is used from that connection's fiber;
// it never suspends.
#include <dusty/http/client_config.hpp>
#include <dusty/http/h1/framing.hpp>
#include <dusty/http/h1/head_collector.hpp>
#include <dusty/http/error.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace dusty::http::h1 {

/// A parsed response head. Every view points into the buffer given to
/// `response_parser::parse()`, so it is valid while that buffer is neither modified nor moved.
struct response_head {
  /// The status code, 100 to 999.
  unsigned status = 0;
  /// The reason phrase, possibly empty.
  std::string_view reason;
  /// 10 for HTTP/1.0, 11 for HTTP/1.1.
  unsigned version = 11;
  /// The header fields in the order received; values without surrounding whitespace.
  std::span<const header_field> headers;
  /// Whether the connection may carry another request once this response's body has been
  /// read: HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with `Connection:
  /// keep-alive`, and never when the body is delimited by the end of the connection.
  bool keep_alive = false;
  /// How the body is delimited.
  body_framing framing = body_framing::none;
  /// The declared length when `framing` is `content_length`, else 0.
  std::uint64_t content_length = 0;

  /// 1xx: an interim response to skip (101 included; see the file comment).
  bool informational() const noexcept { return status >= 100 && status < 200; }
  /// The value of the first field named `name` (ASCII case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
};

/// Limits of the response head. Values are clamped to what the parser can represent.
struct response_limits {
  /// Longest head: status line, fields and the final empty line; above it:
  /// `response_too_large`. At most 1 GiB. Default: 64 KiB.
  std::size_t max_head_size = client_config{}.max_head_size;
  /// Most header fields; one more is `response_too_large`. Storage for this many fields is
  /// allocated once, when the parser is constructed. Default: 128.
  std::size_t max_headers = 128;
};

/// What the response being parsed answers; it decides whether a body follows.
enum class request_kind : std::uint8_t {
  normal,  ///< Any method but HEAD (and CONNECT, which the client does not send).
  head,    ///< HEAD: the response never has a body.
};

/// Incremental response-head parser. Reusable: `reset()` between responses.
///
/// \code
///   response_parser p{limits};
///   p.reset(request_kind::normal);
///   for (;;) {
///       auto r = p.parse(in.view());            // the response starts at offset 0
///       if (!r) fail(r.error());
///       if (*r == 0) { in.fill(); continue; }
///       if (p.head().informational()) { in.consume(*r); p.reset(kind); continue; }
///       break;                                   // head occupies in.view()[0, *r)
///   }
/// \endcode
class response_parser {
 public:
  /// Allocates the header storage (`limits.max_headers` entries); never allocates afterwards.
  explicit response_parser(const response_limits& limits = {});

  response_parser(const response_parser&) = delete;
  response_parser& operator=(const response_parser&) = delete;
  response_parser(response_parser&&) noexcept = default;
  response_parser& operator=(response_parser&&) noexcept = default;
  ~response_parser() = default;

  /// Parses the head at the start of `buffer`.
  ///
  /// `buffer` holds every byte received so far for this response, starting with its first
  /// byte. Between calls the caller may append to it and may move it (only offsets are
  /// kept), but must not change bytes already passed. Each call examines only the bytes
  /// not seen before.
  ///
  /// Returns 0 when the head is not complete yet, or the size in bytes of the complete
  /// head (status line through the empty line). Bytes after the head are never read.
  /// After an error, or once complete, further calls return the same result until `reset()`.
  result<std::size_t> parse(std::string_view buffer);

  /// The parsed head; meaningful only after `parse()` returned a non-zero size, and only
  /// while the buffer passed to that call is unchanged.
  const response_head& head() const noexcept { return head_; }

  /// Forgets the current response; the next `parse()` starts a new one, which answers a
  /// request of kind `kind`.
  void reset(request_kind kind = request_kind::normal) noexcept;

  /// The kind given to the last `reset()`.
  request_kind kind() const noexcept { return kind_; }

  /// The limits given at construction, after clamping.
  const response_limits& limits() const noexcept { return limits_; }

 private:
  std::error_code finish(std::string_view buffer);

  response_limits limits_;
  head_collector collector_;  // llhttp and the spans it found
  request_kind kind_ = request_kind::normal;
  std::size_t head_size_ = 0;  // non-zero once complete
  std::error_code error_;      // sticky
  response_head head_;
};

}  // namespace dusty::http::h1
