#pragma once
// Incremental, allocation-free HTTP/1.0 and HTTP/1.1 request-head parser on top of llhttp.
//
// The parser reads the request line and the header section, validates them strictly and
// stops at the end of the head: the body (if any) and pipelined requests stay in the
// caller's buffer, to be read with `body_decoder` and a fresh `parse()` after `reset()`.
//
// Strictness. llhttp runs in strict mode with no lenient flag. On top of it the parser
// rejects, each with its own `errc` (see error.hpp for the status):
//  - bare CR or bare LF anywhere in the head (`invalid_line_ending`);
//  - a line starting with space or tab after the request line, obs-fold included
//    (`obsolete_line_folding`);
//  - whitespace between a field name and its colon, forbidden bytes in names or values,
//    empty field names (`invalid_header`);
//  - Content-Length together with Transfer-Encoding, and Content-Length given twice, even
//    with the same value (`content_length_with_transfer_encoding`, `duplicate_content_length`);
//  - Transfer-Encoding whose final coding is not `chunked`, `chunked` applied twice, or any
//    Transfer-Encoding in an HTTP/1.0 request (`invalid_transfer_encoding`); a coding other
//    than `chunked` before a final `chunked` is `unsupported_transfer_encoding` (501),
//    because the server does not decode content codings on the fly;
//  - an HTTP/1.1 request without exactly one Host field, and any request with several
//    (`invalid_host`), unless `parser_limits::require_host` is off;
//  - versions other than 1.0 and 1.1 (`version_not_supported`, 505), `*` as the target of
//    anything but OPTIONS, and a CONNECT target that is not in authority form (`invalid_target`).
//
// Errors are detected at the first offending byte, so the error for a given input does
// not depend on how the input was split between calls.
//
// Threading: a parser belongs to one connection and is used from that connection's fiber;
// it never suspends.

#include <dusty/http/server_config.hpp>
#include <dusty/http/h1/framing.hpp>
#include <dusty/http/h1/head_collector.hpp>
#include <dusty/http/error.hpp>
#include <dusty/http/method.hpp>
#include <dusty/http/request_head.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace dusty::http::h1 {


/// A parsed HTTP/1 request head: the protocol-neutral part a handler sees (http::request_head:
/// method, target, path, query, fields) plus what only HTTP/1 has. Every view points into
/// the buffer given to `request_parser::parse()` (or, for `path` of an absolute-form target
/// without a path, to a static "/"), so it is valid while that buffer is neither modified
/// nor moved. For the absolute form ("http://host/a?x") `path` is the path part, "/" if there
/// is none; "*" for `OPTIONS *`; empty for CONNECT's authority form. A fragment ('#...') is
/// part of neither path nor query.
struct request_head : http::request_head {
  /// 10 for HTTP/1.0, 11 for HTTP/1.1.
  unsigned version = 11;
  /// Whether the connection may serve another request after this one: HTTP/1.1 unless
  /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
  bool keep_alive = false;
  /// CONNECT, or `Connection: upgrade` together with an Upgrade field.
  bool upgrade = false;
  /// HTTP/1.1 `Expect: 100-continue`; ignored in HTTP/1.0 (RFC 9110 section 10.1.1).
  bool expect_continue = false;
  /// How the body is delimited.
  body_framing framing = body_framing::none;  ///< Never `until_close` for a request.
  /// The declared length when `framing` is `content_length`, else 0.
  std::uint64_t content_length = 0;

  /// Sets `version` and the matching `protocol` text ("HTTP/1.0", "HTTP/1.1").
  void set_version(unsigned v) noexcept {
    version = v;
    protocol = v == 10 ? "HTTP/1.0" : "HTTP/1.1";
  }
};

/// Limits of the request head. Values are clamped to what the parser can represent. The
/// defaults are server_config's (the one place they are written down).
struct parser_limits {
  /// Longest request line, without its CRLF; above it: `uri_too_long` (414). Default: 8 KiB.
  std::size_t max_request_line = server_config::limits_config{}.max_request_line;
  /// Longest head: request line, header fields, final empty line and any leading empty
  /// lines; above it: `header_too_large` (431), or `uri_too_long` while still in the
  /// request line. At most 1 GiB. Default: 16 KiB.
  std::size_t max_head_size = server_config::limits_config{}.max_head_size;
  /// Most header fields; one more is `too_many_headers` (431). Storage for this many fields
  /// is allocated once, when the parser is constructed. Default: 64.
  std::size_t max_headers = server_config::limits_config{}.max_headers;
  /// Reject HTTP/1.1 requests without a Host field (RFC 9112 section 3.2 says a server MUST).
  /// Turning it off relaxes a protocol check, not a smuggling defence; several Host fields
  /// are rejected either way. Default: true.
  bool require_host = true;
};

/// Incremental request-head parser. Reusable: `reset()` between requests.
///
/// Usage, for one connection:
/// \code
///   request_parser p{limits};
///   for (;;) {                                   // one request per iteration
///       auto r = p.parse(buf.view());            // buf: bytes received, request at offset 0
///       if (!r) { answer(status_for(r.error())); close(); }
///       if (*r == 0) { read_more(buf); continue; }
///       const request_head& head = p.head();     // head occupies buf[0, *r)
///       ... read the body from buf[*r, ...) with body_decoder, answer ...
///       buf.consume(*r + body_bytes); p.reset();
///   }
/// \endcode
class request_parser {
 public:
  /// Allocates the header storage (`limits.max_headers` entries); never allocates
  /// afterwards, unless release_storage() gave it back.
  explicit request_parser(const parser_limits& limits = {});

  request_parser(const request_parser&) = delete;
  request_parser& operator=(const request_parser&) = delete;
  request_parser(request_parser&&) noexcept = default;
  request_parser& operator=(request_parser&&) noexcept = default;
  ~request_parser() = default;

  /// Parses the head at the start of `buffer`.
  ///
  /// `buffer` holds every byte received so far for this request, starting with its first
  /// byte. Between calls the caller may append to it and may move it (only offsets are
  /// kept), but must not change bytes already passed. Each call examines only the bytes not
  /// seen before, so the total work stays linear in the head size however it is split.
  ///
  /// Returns 0 when the head is not complete yet, or the size in bytes of the complete head
  /// (request line through the empty line). Bytes after the head are never read. After an
  /// error, or once complete, further calls return the same result until `reset()`.
  result<std::size_t> parse(std::string_view buffer);

  /// The parsed head; meaningful only after `parse()` returned a non-zero size, and only
  /// while the buffer passed to that call is unchanged.
  const request_head& head() const noexcept { return head_; }

  /// Forgets the current request; the next `parse()` starts a new one.
  void reset() noexcept;

  /// As reset(), and frees the header storage too, for a parser about to sit idle (a
  /// connection waiting for its next request); the next parse() allocates it again.
  void release_storage() noexcept;

  /// Points every view of a complete head at `copy`, a byte-for-byte copy of the head
  /// (its first head().size bytes) made elsewhere, so the original buffer may change.
  void rebase(const char* copy) noexcept;

  /// The limits given at construction, after clamping.
  const parser_limits& limits() const noexcept { return limits_; }

 private:
  std::error_code scan(std::string_view buffer, std::size_t& stop);
  std::error_code finish(std::string_view buffer);

  parser_limits limits_;
  head_collector collector_;      // llhttp and the spans it found
  std::uint32_t scanned_ = 0;     // bytes checked by scan()
  std::uint32_t line_start_ = 0;  // offset of the line scan() is in
  bool request_line_done_ = false;
  bool head_end_seen_ = false;
  std::size_t head_size_ = 0;        // non-zero once complete
  const char* head_base_ = nullptr;  // what head_'s views point into
  std::error_code error_;            // sticky
  request_head head_;
};

}  // namespace dusty::http::h1
