#pragma once
// Errors of the http module: one `errc` enumeration, its `std::error_category`, and the
// status code a server answers each error with.
//
// Messages are for logs only and are not part of the API; compare codes, not text.

#include <dusty/core/result.hpp>
#include <dusty/http/status.hpp>

#include <system_error>

namespace dusty::http {

using dusty::result;

/// Errors raised by request parsing, body decoding, routing and query parsing.
///
/// Each comment names the status `status_for()` maps the error to. All request errors
/// leave the connection in an unknown framing state: answer and close.
enum class errc {
  // Request line and header section.

  /// Malformed request not covered below. 400.
  bad_request = 1,
  /// Method token llhttp does not know, or a malformed one. 400.
  invalid_method,
  /// Request-target with forbidden bytes or of the wrong form for the method. 400.
  invalid_target,
  /// Malformed HTTP-version. 400.
  invalid_version,
  /// Well-formed version other than HTTP/1.0 and HTTP/1.1 (HTTP/0.9, HTTP/2.0, the h2 preface). 505.
  version_not_supported,
  /// Bad field name or value: forbidden byte, empty name, whitespace before the colon. 400.
  invalid_header,
  /// Bare CR or bare LF instead of CRLF. 400.
  invalid_line_ending,
  /// A line starting with space or tab after the request line: obs-fold (RFC 9112 section 5.2). 400.
  obsolete_line_folding,
  /// HTTP/1.1 request without Host, or any request with more than one. 400.
  invalid_host,
  /// Content-Length that is not one 64-bit decimal number. 400.
  invalid_content_length,
  /// Content-Length given more than once, even with equal values. 400.
  duplicate_content_length,
  /// Content-Length and Transfer-Encoding together (a smuggling vector). 400.
  content_length_with_transfer_encoding,
  /// Transfer-Encoding whose final coding is not chunked, chunked applied twice, or any
  /// Transfer-Encoding in HTTP/1.0. 400.
  invalid_transfer_encoding,
  /// A coding other than chunked before the final chunked (the server decodes none). 501.
  unsupported_transfer_encoding,
  /// Expect with a value other than 100-continue. 417.
  unsupported_expectation,
  /// Request line longer than the limit. 414.
  uri_too_long,
  /// Header section (or a chunked body's trailer section) longer than the limit. 431.
  header_too_large,
  /// More header fields than the limit. 431.
  too_many_headers,

  // Request body.

  /// Chunk size that is not hexadecimal or does not fit 64 bits. 400.
  invalid_chunk_size,
  /// Other chunked framing error: missing CRLF, bad extension byte or trailer field. 400.
  invalid_chunk,
  /// Body longer than the configured maximum. 413.
  body_too_large,

  // Routing.

  /// No route matches the path. 404.
  not_found,
  /// Routes match the path, but none for this method. 405.
  method_not_allowed,
  /// The matched route captures more params than the caller's array holds: a server
  /// misconfiguration. 500.
  too_many_params,

  // Query strings.

  /// More query parameters than the limit. 400.
  too_many_query_params,

  // Request body contents (forms, multipart, content codings).
  /// A malformed application/x-www-form-urlencoded body. 400.
  invalid_form,
  /// A malformed multipart body: no boundary, bad delimiter, bad part head. 400.
  invalid_multipart,
  /// More multipart parts or form fields than the limit. 413.
  too_many_parts,
  /// A multipart part larger than the limit. 413.
  part_too_large,
  /// Compressed data that does not decode (bad gzip/deflate stream, truncated). 400.
  invalid_content_encoding,
  /// A Content-Encoding the receiver does not decode. 415.
  unsupported_content_encoding,

  // Client (http::client). A handler that lets one escape answers 502: the upstream failed.
  /// Not an absolute http:// or https:// URL, or a host/port that does not parse. 500.
  invalid_url,
  /// A scheme other than http (and https once TLS is built). 500.
  unsupported_scheme,
  /// A response the client cannot parse: bad status line, header or framing. 502.
  invalid_response,
  /// A response head or body larger than the client's limit. 502.
  response_too_large,
  /// More redirects than the request allows. 502.
  too_many_redirects,
};

/// The category of `errc` values; its name is "dusty.http".
const std::error_category& error_category() noexcept;

/// Makes `e` an error code of `error_category()`; found by ADL so `std::error_code ec = errc::x` works.
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

/// The status a server answers `e` with (see the comments on `errc`).
status status_for(errc e) noexcept;

/// The status for any error code: `status_for(errc)` for codes of `error_category()`,
/// 500 Internal Server Error for every other category.
status status_for(const std::error_code& ec) noexcept;

}  // namespace dusty::http

template <>
struct std::is_error_code_enum<dusty::http::errc> : std::true_type {};
