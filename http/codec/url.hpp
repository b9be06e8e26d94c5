#pragma once
// url: an absolute http:// or https:// URL split into the parts a client needs, and
// reference resolution (RFC 3986 section 5) for following redirects.
//
//   auto u = http::url::parse("http://example.com:8080/a/b?x=1#frag");
//   u->scheme == "http"; u->host == "example.com"; u->port == 8080;
//   u->target == "/a/b?x=1";                      // the fragment is never sent
//   u->resolve("../c")->to_string() == "http://example.com:8080/c"
//
// Parsing rejects, before any I/O, what a client cannot send: a missing or unknown scheme
// (unsupported_scheme for anything but http and https), an empty host, a port that is
// not a number up to 65535, bytes outside the URL alphabet (control bytes, spaces). The
// host is lower-cased; an IPv6 literal is stored without its brackets. Userinfo
// ("user:pass@") is kept apart so that a client can turn it into Authorization.
#include <dusty/http/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace dusty::http {

struct url {
  std::string scheme;     ///< "http" or "https", lower-case.
  std::string userinfo;   ///< "user:password" as written (still percent-encoded); usually empty.
  std::string host;       ///< Lower-case name, IPv4 literal, or IPv6 literal without brackets.
  std::uint16_t port = 0; ///< The explicit port, else the scheme's default (80, 443).
  std::string target;     ///< Path and query as sent in the request line: "/" when empty; no fragment.

  /// Parses an absolute URL. Errors: errc::invalid_url, errc::unsupported_scheme.
  static result<url> parse(std::string_view text);

  /// The URL `reference` (absolute, scheme-relative "//host/x", absolute-path "/x",
  /// relative "x", "../x", "?q") names relative to this one, as a browser follows a
  /// Location header. Errors as parse().
  result<url> resolve(std::string_view reference) const;

  bool is_default_port() const noexcept { return port == (scheme == "https" ? 443 : 80); }
  /// The Host header value: host, bracketed when IPv6, with ":port" unless default.
  std::string authority() const;
  /// The path part of target (before '?').
  std::string_view path() const noexcept;
  /// The query part of target (after '?', without it); empty if none.
  std::string_view query() const noexcept;
  /// scheme://authority target (userinfo is left out: it is a secret).
  std::string to_string() const;

  friend bool operator==(const url&, const url&) = default;
};

}  // namespace dusty::http
