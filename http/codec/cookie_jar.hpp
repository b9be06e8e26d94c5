#pragma once
// cookie_jar: a client's cookie store (RFC 6265 section 5.3 storage model): domain and
// host-only matching, path matching, expiry (Expires and Max-Age, Max-Age winning),
// Secure cookies sent only over https, replacement by (name, domain, path). Cookies for
// public suffixes are not rejected (no suffix list is shipped): a jar is for one
// program's own requests, not for browsing untrusted sites.
//
// Not thread-safe: a jar belongs to one shard (http::client keeps one per shard).
#include <dusty/http/codec/cookie.hpp>
#include <dusty/http/codec/url.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dusty::http {

class cookie_jar {
 public:
  using clock = std::chrono::system_clock;

  /// Stores the cookie of one Set-Cookie value received in the answer to `request_url`.
  /// Rejected silently, as a user agent must: unparsable values, a Domain that does not
  /// domain-match the request host, Secure cookies set over http.
  void store(const url& request_url, std::string_view set_cookie_value, clock::time_point now = clock::now());

  /// The Cookie header value for a request to `request_url` ("a=1; b=2": longer paths
  /// first, then older first), or empty when no cookie applies. Drops expired cookies.
  std::string cookie_header(const url& request_url, clock::time_point now = clock::now());

  /// Cookies held, expired ones not yet dropped included.
  std::size_t size() const noexcept { return cookies_.size(); }
  void clear() noexcept { cookies_.clear(); }

 private:
  struct entry {
    std::string name, value, domain, path;
    std::optional<clock::time_point> expires;
    bool host_only = true, secure = false;
    clock::time_point created;
  };
  std::vector<entry> cookies_;
};

}  // namespace dusty::http
