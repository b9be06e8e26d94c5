#pragma once
// request_head: what any protocol parsed of a request, in the terms they share. HTTP/1's
// parser extends it with what only HTTP/1 has (version, keep-alive, framing: see
// h1/request_parser.hpp); HTTP/2 fills it from its pseudo-header fields.
#include <dusty/http/fields.hpp>
#include <dusty/http/method.hpp>

#include <optional>
#include <span>
#include <string_view>

namespace dusty::http {

/// The views point into memory the protocol keeps for the length of the request.
struct request_head {
  /// The method; `other` for tokens without an enumerator.
  http::method method = http::method::other;
  /// The method exactly as sent, e.g. "PROPFIND".
  std::string_view method_token;
  /// The raw request-target, e.g. "/a%20b?x=1".
  std::string_view target;
  /// The path of the target, not percent-decoded: "/a%20b".
  std::string_view path;
  /// The raw query after '?', without '?'; empty if none.
  std::string_view query;
  /// The protocol as written in logs: "HTTP/1.1", "HTTP/1.0", "HTTP/2".
  std::string_view protocol = "HTTP/1.1";
  /// The header fields in the order received.
  std::span<const header_field> headers;

  /// The value of the first field named `name` (ASCII case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const noexcept { return find_field(headers, name); }
};

}  // namespace dusty::http
