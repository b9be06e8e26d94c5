#pragma once
// Cookies (RFC 6265): reading the Cookie header a server receives, and building and
// parsing Set-Cookie.
//
//   if (auto sid = http::find_cookie(req.header("cookie").value_or(""), "sid")) ...
//   res.header("Set-Cookie", http::set_cookie{.name = "sid", .value = id, .path = "/",
//                                             .max_age = 3600s, .http_only = true}.to_string());
#include <dusty/http/error.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace dusty::http {

/// Calls `fn(name, value)` for each pair of a Cookie header value ("a=1; b=2"), in order.
/// Pairs without '=' are skipped; a value in double quotes is given without them.
void for_each_cookie(std::string_view cookie_header,
                     const std::function<void(std::string_view name, std::string_view value)>& fn);
/// The value of the first cookie called `name` in a Cookie header value.
std::optional<std::string_view> find_cookie(std::string_view cookie_header, std::string_view name) noexcept;

enum class same_site { unset, strict, lax, none };

/// One Set-Cookie field.
struct set_cookie {
  std::string name;
  std::string value;
  std::optional<std::chrono::system_clock::time_point> expires;
  std::optional<std::chrono::seconds> max_age;  ///< 0 or less: delete now.
  std::string domain;                           ///< Empty: host-only.
  std::string path;                             ///< Empty: the default path (RFC 6265 5.1.4).
  bool secure = false;
  bool http_only = false;
  http::same_site same_site = http::same_site::unset;

  /// The Set-Cookie value: "name=value; Expires=<IMF-fixdate>; Max-Age=..; Domain=..;
  /// Path=..; Secure; HttpOnly; SameSite=..". Throws std::invalid_argument for a name
  /// that is not a token or a value with bytes a cookie-value cannot hold.
  std::string to_string() const;

  /// Parses a received Set-Cookie value leniently, as RFC 6265 section 5.2 tells user
  /// agents to (unknown attributes ignored, bad Expires ignored). errc::invalid_header
  /// when there is no "name=" pair at all.
  static result<set_cookie> parse(std::string_view header_value);
};

}  // namespace dusty::http
