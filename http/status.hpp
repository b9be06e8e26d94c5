#pragma once
// HTTP status codes, their classes and reason phrases.
//
// Everything here is pure and allocation-free, callable from any shard.

#include <cstdint>
#include <string_view>

namespace dusty::http {

/// Status codes registered with IANA that a server or client is likely to meet.
///
/// Any value in [100, 999] is a valid status on the wire; codes without an enumerator can
/// still be used through `static_cast<status>(code)`.
enum class status : std::uint16_t {
  continue_ = 100,
  switching_protocols = 101,
  processing = 102,
  early_hints = 103,

  ok = 200,
  created = 201,
  accepted = 202,
  non_authoritative_information = 203,
  no_content = 204,
  reset_content = 205,
  partial_content = 206,

  multiple_choices = 300,
  moved_permanently = 301,
  found = 302,
  see_other = 303,
  not_modified = 304,
  temporary_redirect = 307,
  permanent_redirect = 308,

  bad_request = 400,
  unauthorized = 401,
  payment_required = 402,
  forbidden = 403,
  not_found = 404,
  method_not_allowed = 405,
  not_acceptable = 406,
  proxy_authentication_required = 407,
  request_timeout = 408,
  conflict = 409,
  gone = 410,
  length_required = 411,
  precondition_failed = 412,
  content_too_large = 413,
  uri_too_long = 414,
  unsupported_media_type = 415,
  range_not_satisfiable = 416,
  expectation_failed = 417,
  misdirected_request = 421,
  unprocessable_content = 422,
  upgrade_required = 426,
  precondition_required = 428,
  too_many_requests = 429,
  request_header_fields_too_large = 431,
  unavailable_for_legal_reasons = 451,

  internal_server_error = 500,
  not_implemented = 501,
  bad_gateway = 502,
  service_unavailable = 503,
  gateway_timeout = 504,
  http_version_not_supported = 505,
};

/// The first digit of a status code (RFC 9110 section 15).
enum class status_class : std::uint8_t {
  unknown = 0,  ///< Outside [100, 599].
  informational = 1,
  successful = 2,
  redirection = 3,
  client_error = 4,
  server_error = 5,
};

/// The class of `code`; `status_class::unknown` outside [100, 599].
constexpr status_class to_status_class(unsigned code) noexcept {
  return code >= 100 && code < 600 ? static_cast<status_class>(code / 100) : status_class::unknown;
}

/// The class of `s`.
constexpr status_class to_status_class(status s) noexcept {
  return to_status_class(static_cast<unsigned>(s));
}

/// The numeric value of `s`.
constexpr unsigned to_code(status s) noexcept { return static_cast<unsigned>(s); }

/// True if a response with this status never carries content (1xx, 204 and 304, RFC 9110
/// section 6.4.1), so the serializer must write neither a body nor chunked framing.
constexpr bool status_allows_body(unsigned code) noexcept {
  return !(code < 200 || code == 204 || code == 304);
}

/// The reason phrase of `code` ("Not Found"), as registered with IANA. Empty for codes that
/// are not registered, which is valid on the wire (`HTTP/1.1 599 \r\n`).
std::string_view reason_phrase(unsigned code) noexcept;

/// The reason phrase of `s`.
inline std::string_view reason_phrase(status s) noexcept { return reason_phrase(to_code(s)); }

}  // namespace dusty::http
