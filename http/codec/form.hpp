#pragma once
// application/x-www-form-urlencoded bodies (WHATWG URL standard, "application/x-www-form-
// urlencoded parsing"): what an HTML form posts by default and what curl -d sends.
//
//   http::form_fields form(&req.arena());
//   if (auto r = form.parse(req.body()); !r) throw http::status_error(http::status_for(r.error()), "bad form");
//   auto name = form.get("name").value_or("");
//   for (auto& f : form) ...                         // every field, in order, repeats included
//
// The body is split like a query string (query.hpp's parse_query: '&' between fields, the
// first '=' between name and value, '+' is a space, %XX decoded, empty pairs skipped), so
// a form behaves exactly like request::query() does. Decoded bytes are not validated as
// UTF-8.
//
// Nothing here suspends; all of it may run on any shard.
#include <dusty/http/error.hpp>
#include <dusty/http/codec/query.hpp>

#include <cstddef>
#include <memory_resource>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace dusty::http {

/// The media type of urlencoded forms, for comparing with a Content-Type.
inline constexpr std::string_view form_urlencoded_type = "application/x-www-form-urlencoded";

/// Bounds on what parse() accepts; a request body is already bounded by max_body_size.
struct form_limits {
  /// Most fields (non-empty '&'-separated pairs); more fail with errc::too_many_parts
  /// (413). Default: 1000.
  std::size_t max_fields = 1000;
  /// Largest body parse() looks at; a larger one fails with errc::body_too_large (413).
  /// Default: 1 MiB.
  std::size_t max_size = 1024 * 1024;
};

/// True when a Content-Type value names application/x-www-form-urlencoded (parameters
/// such as "; charset=utf-8" ignored, ASCII case-insensitive).
bool is_form_urlencoded(std::string_view content_type) noexcept;

/// One decoded field of a form.
using form_field = query_param;

/// A parsed form: a query_params (the same encoding, storage and lookups: get, contains,
/// size, iteration) whose parse() applies form_limits and refuses control bytes.
///
/// Memory comes from the resource given at construction (typically the request's arena):
/// at most two allocations per parse(). Views point into that storage or into the body
/// that was parsed, which must outlive this object. Not copyable, as the views would dangle.
class form_fields : public query_params {
 public:
  using query_params::query_params;

  /// Replaces the content with the fields of `body`. Errors (the object is left empty):
  ///  - errc::body_too_large: `body` is longer than limits.max_size;
  ///  - errc::too_many_parts: more than limits.max_fields fields;
  ///  - errc::invalid_form: the body holds a raw control byte (0x00-0x08, 0x0B, 0x0C,
  ///    0x0E-0x1F, 0x7F). No user agent sends those unencoded, so such a body is not a form;
  ///    tab, CR and LF are tolerated because hand-written bodies (curl --data-binary @file)
  ///    end in a newline.
  result<void> parse(std::string_view body, const form_limits& limits = {});

  /// The fields in order.
  std::span<const form_field> fields() const noexcept { return params(); }
};

}  // namespace dusty::http
