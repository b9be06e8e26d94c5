#pragma once
// `router<T>`: maps a method and a request path to a value of type `T` (the server stores
// handlers with their middleware chain; tests store ints).
//
// Patterns
// --------
// A pattern is a '/'-separated list of segments, starting with '/':
//  - `users`   a static segment, matched byte for byte (case-sensitive, not decoded);
//  - `:id`     a parameter: matches any one non-empty segment and captures it as `id`;
//  - `*`       in the middle (`/api/*/debug`), or last but followed by '/' (`/api/*/`):
//              a one-segment glob, matching any one non-empty segment without capturing it;
//  - `*`       as the last segment (`/static/*`): a suffix glob, matching the rest of the
//              path, zero or more segments: `/static`, `/static/`, `/static/a`, `/static/a/b`.
//              The matched remainder ("a/b") is `route_match::rest`.
// These are http.zig's glob semantics. Patterns are rejected (std::invalid_argument) when
// they do not start with '/', contain an empty segment (`/a//b`), a nameless or repeated
// parameter, more parameters than `router_config::max_params`, a '*' that is not a whole
// segment, or repeat a pattern already registered for the same method (`/u/:id` and
// `/u/:name` are the same pattern).
//
// Paths
// -----
// Lookup works on the raw path (`request_head::path`), never decoded, so `%2F` inside a
// segment does not split it; parameter values are returned raw, `percent_decode()` in
// query.hpp decodes them. A single trailing slash is ignored, both in patterns and paths
// (`/users/` routes like `/users`), as in http.zig. Empty segments (`/a//b`) match no static
// segment, parameter or one-segment glob, only a suffix glob. A path that does not start
// with '/' (`*`, an authority) matches nothing.
//
// Specificity and backtracking
// ----------------------------
// Segments are compared left to right; at the first segment where candidate routes differ,
// a static segment beats a parameter, which beats a one-segment glob, which beats a suffix
// glob. Unlike http.zig the search backtracks: when the most specific branch dead-ends, the
// next one is tried. With `/:any/users` and `/hello/users/test`, `/hello/users` routes to
// the first; with `/hello/:x/a` and `/:y/b/b`, `/hello/b/b` routes to the second. Matching
// is per method, as if each method had its own table that also holds the `all` routes; at a
// given pattern a route for the method itself beats an `all` route. The search is at most
// as deep as the longest pattern; its worst case grows with how many branches every level
// of the table offers, which real tables keep small.
//
// Methods, 404 and 405
// --------------------
// `find()` fails with `errc::not_found` when no route of any method matches the path, and
// with `errc::method_not_allowed` when some do; `allowed_methods()` then gives the value of
// the `Allow` header. A HEAD request falls back to the GET route when there is no HEAD or
// `all` route (`router_config::head_uses_get`).
//
// Cost and threading
// ------------------
// Registration allocates and is meant for start-up. `find()` and `allowed_methods()` never
// allocate, never suspend, and are const: one router per shard, or one shared read-only
// router after registration ends, are both fine.

#include <dusty/http/detail/route_trie.hpp>
#include <dusty/http/error.hpp>
#include <dusty/http/method.hpp>

#include <cstddef>
#include <deque>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace dusty::http {

/// A captured path parameter: the name from the pattern (without ':') and the raw segment
/// from the path. The name lives as long as the router, the value as long as the path.
using route_param = detail::route_param;

/// Default size of the parameter array a server passes to `router::find`; http.zig's
/// `max_param_count`.
inline constexpr std::size_t default_max_params = 10;

/// Router options.
struct router_config {
  /// Route a HEAD request to the GET route of its path when there is neither a HEAD nor an
  /// `all` route for it; the server then sends the headers without the body. Default: true.
  bool head_uses_get = true;
  /// Most parameters one pattern may capture; registering a pattern with more throws
  /// std::invalid_argument, so a server that passes `find()` an array of this size never
  /// sees `errc::too_many_params`. Default: `default_max_params` (10).
  std::size_t max_params = default_max_params;
};

/// The value of the first parameter named `name` in `params`.
inline std::optional<std::string_view> find_param(std::span<const route_param> params,
                                                  std::string_view name) noexcept {
  for (const auto& p : params) {
    if (p.name == name) {
      return p.value;
    }
  }
  return std::nullopt;
}

/// A successful lookup.
template <class T>
struct route_match {
  const T* value = nullptr;       ///< The registered value; lives as long as the router.
  std::span<route_param> params;  ///< The captured parameters, in pattern order: a prefix
                                  ///< of the caller's array.
  std::string_view rest;          ///< What a suffix glob matched ("a/b" for `/static/*` and
                                  ///< `/static/a/b`), without the leading '/'; else empty.
  std::string_view pattern;       ///< The pattern of the route, as registered.

  /// The value of parameter `name`, if the route captures it.
  std::optional<std::string_view> param(std::string_view name) const noexcept {
    return find_param(params, name);
  }
};

template <class T>
class route_group;

namespace detail {
/// What router verbs take after the value: nothing.
struct no_route_extra {};

// get/post/... for anything with `add(method, pattern, value)` (the router and its groups)
// or `add(method, pattern, value, Extra)` (the server's route scopes, whose Extra is a
// middleware list). Extra is a plain parameter, not deduced, so a braced list works:
// `srv.get("/a", fn, {auth})`.
template <class Derived, class Extra = no_route_extra>
class route_verbs {
 public:
  template <class V> void get(std::string_view pattern, V&& value, Extra extra = {}) { verb(method::get, pattern, std::forward<V>(value), std::move(extra)); }
  template <class V> void head(std::string_view pattern, V&& value, Extra extra = {}) { verb(method::head, pattern, std::forward<V>(value), std::move(extra)); }
  template <class V> void post(std::string_view pattern, V&& value, Extra extra = {}) { verb(method::post, pattern, std::forward<V>(value), std::move(extra)); }
  template <class V> void put(std::string_view pattern, V&& value, Extra extra = {}) { verb(method::put, pattern, std::forward<V>(value), std::move(extra)); }
  template <class V> void patch(std::string_view pattern, V&& value, Extra extra = {}) { verb(method::patch, pattern, std::forward<V>(value), std::move(extra)); }
  template <class V> void delete_(std::string_view pattern, V&& value, Extra extra = {}) { verb(method::delete_, pattern, std::forward<V>(value), std::move(extra)); }
  template <class V> void options(std::string_view pattern, V&& value, Extra extra = {}) { verb(method::options, pattern, std::forward<V>(value), std::move(extra)); }

 private:
  template <class V>
  void verb(method m, std::string_view pattern, V&& value, Extra&& extra) {
    auto& self = static_cast<Derived&>(*this);
    if constexpr (std::is_same_v<Extra, no_route_extra>)
      self.add(m, pattern, std::forward<V>(value));
    else
      self.add(m, pattern, std::forward<V>(value), std::move(extra));
  }
};
}  // namespace detail

/// Maps (method, path) to a `T`. See the file comment for pattern syntax and matching rules.
///
/// \code
///   router<int> r;
///   r.get("/users/:id", 1);
///   r.get("/static/*", 2);
///   std::array<route_param, default_max_params> params;
///   auto m = r.find(method::get, "/users/42", params);   // *m->value == 1, m->param("id") == "42"
/// \endcode
template <class T>
class router : public detail::route_verbs<router<T>> {
 public:
  using value_type = T;

  explicit router(const router_config& config = {}) : trie_{config.head_uses_get, config.max_params} {}

  /// Registers `value` for `m` and `pattern`. `m` must not be `method::other`; use `all()`
  /// to match any method. Throws std::invalid_argument for a bad or duplicate pattern.
  void add(method m, std::string_view pattern, T value) {
    if (m == method::other) {
      throw std::invalid_argument("router: cannot register method::other; use all()");
    }
    insert(static_cast<std::size_t>(m), pattern, std::move(value));
  }

  /// Registers `value` for every method, including methods without an enumerator.
  void all(std::string_view pattern, T value) { insert(detail::all_methods_slot, pattern, std::move(value)); }

  /// A group whose patterns are prefixed with `prefix` (see `route_group`).
  route_group<T> group(std::string_view prefix) { return route_group<T>{*this, std::string{prefix}}; }

  /// Finds the route for `m` and `path`, writing captured parameters into `params`.
  ///
  /// Errors: `errc::not_found` (404) when nothing matches the path;
  /// `errc::method_not_allowed` (405) when routes match the path for other methods only;
  /// `errc::too_many_params` (500) when the matching route captures more parameters than
  /// `params` holds. Allocates nothing; `params` entries past the returned ones are
  /// unspecified.
  result<route_match<T>> find(method m, std::string_view path, std::span<route_param> params) const noexcept {
    auto found = trie_.find(m, path, params);
    if (!found) {
      return std::unexpected(found.error());
    }
    return route_match<T>{&values_[found->route], params.first(found->param_count), found->rest,
                          trie_.pattern(found->route)};
  }

  /// The methods `find()` would succeed for on `path`, for an `Allow` header. HEAD is
  /// included wherever GET is, if `head_uses_get`. Allocates nothing.
  method_set allowed_methods(std::string_view path) const noexcept { return trie_.allowed_methods(path); }

  /// Number of registered routes (an `all` route counts once).
  std::size_t size() const noexcept { return values_.size(); }

 private:
  void insert(std::size_t slot, std::string_view pattern, T value) {
    trie_.insert(slot, pattern);
    values_.push_back(std::move(value));
  }

  detail::route_trie trie_;
  std::deque<T> values_;  // indexed by route id; a deque, so values never move
};

/// Routes registered through a group get the group's prefix: `group("/admin").get("/users", v)`
/// registers `/admin/users`. Exactly one '/' joins prefix and pattern; an empty prefix is
/// allowed. Groups nest (`group("/api").group("/v1")`).
///
/// A group only prefixes patterns. The server attaches per-group middleware by wrapping the
/// values it registers through its own group type, built on this one; the router does not
/// need to know about middleware.
///
/// A group refers to its router, which must outlive it.
template <class T>
class route_group : public detail::route_verbs<route_group<T>> {
 public:
  route_group(router<T>& owner, std::string prefix) : router_{&owner}, prefix_{std::move(prefix)} {}

  /// `router::add` with the prefix prepended.
  void add(method m, std::string_view pattern, T value) {
    router_->add(m, detail::join_pattern(prefix_, pattern), std::move(value));
  }

  /// `router::all` with the prefix prepended.
  void all(std::string_view pattern, T value) {
    router_->all(detail::join_pattern(prefix_, pattern), std::move(value));
  }

  /// A nested group: this group's prefix followed by `prefix`.
  route_group group(std::string_view prefix) const {
    return route_group{*router_, detail::join_pattern(prefix_, prefix)};
  }

  /// The full prefix of this group.
  const std::string& prefix() const noexcept { return prefix_; }

  /// The router routes are added to.
  router<T>& owner() const noexcept { return *router_; }

 private:
  router<T>* router_;
  std::string prefix_;
};

}  // namespace dusty::http
