#pragma once
// The untyped core of `router<T>`: a trie of path segments whose terminal nodes map each
// method (plus "all") to a route id. `router<T>` keeps the values, indexed by id.

#include <dusty/http/error.hpp>
#include <dusty/http/method.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dusty::http::detail {

/// A captured path parameter; see `http::route_param`.
struct route_param {
  std::string_view name;   ///< Name from the pattern, without ':'.
  std::string_view value;  ///< Raw segment from the path, not percent-decoded.
};

/// Slot of routes registered with `all`, after one slot per known method.
inline constexpr std::size_t all_methods_slot = known_method_count;

/// `prefix` + `pattern` with exactly one '/' between them; "/" when both are empty.
std::string join_pattern(std::string_view prefix, std::string_view pattern);

class route_trie {
 public:
  static constexpr std::uint32_t npos = UINT32_MAX;

  struct match {
    std::uint32_t route = npos;
    std::size_t param_count = 0;
    std::string_view rest;
  };

  route_trie(bool head_uses_get, std::size_t max_params)
      : head_uses_get_{head_uses_get}, max_params_{max_params} {
    nodes_.emplace_back();
  }

  /// Registers `pattern` for `slot` (a `method` value or `all_methods_slot`) and returns the
  /// new route's id; ids are 0, 1, 2, ... in registration order. Throws std::invalid_argument
  /// for a malformed pattern or a route already registered for that slot.
  std::uint32_t insert(std::size_t slot, std::string_view pattern);

  /// Finds the route for `m` and `path`; see `router::find` for the contract.
  result<match> find(method m, std::string_view path, std::span<route_param> params) const noexcept;

  /// Methods with a route for `path`.
  method_set allowed_methods(std::string_view path) const noexcept;

  /// The pattern route `id` was registered with.
  std::string_view pattern(std::uint32_t id) const noexcept { return routes_[id].pattern; }

  std::size_t size() const noexcept { return routes_.size(); }

 private:
  struct search;

  struct node {
    std::vector<std::string> static_keys;  // sorted
    std::vector<std::uint32_t> static_children;
    std::uint32_t param = npos;   // child for ":name"
    std::uint32_t glob = npos;    // child for a one-segment "*"
    std::uint32_t exact = npos;   // slots of routes ending here
    std::uint32_t suffix = npos;  // slots of routes ending here with a suffix "*"

    std::uint32_t find_static(std::string_view key) const noexcept;
  };
  struct route_info {
    std::string pattern;
    std::vector<std::string> param_names;
  };
  using slots = std::array<std::uint32_t, known_method_count + 1>;

  std::uint32_t child(std::uint32_t parent, std::string_view segment);
  std::uint32_t new_node();

  bool head_uses_get_;
  std::size_t max_params_;
  std::vector<node> nodes_;
  std::vector<slots> slots_;
  std::deque<route_info> routes_;  // a deque, so names handed out as views never move
};

}  // namespace dusty::http::detail
