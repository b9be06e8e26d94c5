#pragma once
// Query-string parsing (`application/x-www-form-urlencoded`); components are decoded
// with percent_decode (percent.hpp), `+` as a space.
//
// Nothing here suspends; all of it may run on any shard.

#include <dusty/http/codec/percent.hpp>
#include <dusty/http/error.hpp>

#include <cstddef>
#include <memory_resource>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dusty::http {

/// One decoded query parameter.
struct query_param {
  std::string_view key;
  std::string_view value;  ///< Empty for a key without `=`.
};

/// Default for `max_params` below; http.zig's `max_query_count`.
inline constexpr std::size_t default_max_query_params = 32;

/// Parses a raw query string (the part after `?`, without `?`) into `out`, allocating nothing.
///
/// Pairs are separated by `&`; key and value by the first `=`. Empty pairs (`a=1&&b=2`, a
/// leading or trailing `&`) are skipped; `a` alone gives key "a" with an empty value; `=x`
/// gives an empty key. Keys and values are decoded with `plus_is_space::yes`. A view that
/// needed no decoding points into `raw`; the others point into `scratch`, which must hold at
/// least `raw.size()` bytes (it may be empty when `needs_decoding(raw, plus_is_space::yes)`
/// is false). So the results live as long as both `raw` and `scratch`.
///
/// Returns the number of pairs written, or `errc::too_many_query_params` when `raw` holds
/// more non-empty pairs than `out.size()`.
result<std::size_t> parse_query(std::string_view raw, std::span<query_param> out,
                                std::span<char> scratch) noexcept;

/// A parsed query string that owns its storage, as `request::query()` hands it out.
///
/// Memory comes from the `std::pmr::memory_resource` given at construction, typically the
/// request's arena: at most two allocations per `parse()` (the pair array, and a text
/// buffer when some component needs decoding). Views point into that storage or into the
/// raw string, which must outlive this object.
///
/// Not copyable and not move-assignable, since the views would dangle; move construction
/// keeps them valid.
class query_params {
 public:
  /// An empty query drawing memory from `resource`.
  explicit query_params(std::pmr::memory_resource* resource = std::pmr::get_default_resource());

  query_params(query_params&&) noexcept = default;
  query_params(const query_params&) = delete;
  query_params& operator=(const query_params&) = delete;
  query_params& operator=(query_params&&) = delete;

  /// Replaces the content with the pairs of `raw` (see `parse_query`). On
  /// `errc::too_many_query_params` the object is left empty.
  result<void> parse(std::string_view raw, std::size_t max_params = default_max_query_params);

  /// The value of the first pair whose key equals `key` (case-sensitive, decoded).
  std::optional<std::string_view> get(std::string_view key) const noexcept;

  /// True if some pair has key `key`.
  bool contains(std::string_view key) const noexcept { return get(key).has_value(); }

  /// All pairs in order.
  std::span<const query_param> params() const noexcept { return params_; }
  std::size_t size() const noexcept { return params_.size(); }
  bool empty() const noexcept { return params_.empty(); }
  auto begin() const noexcept { return params_.begin(); }
  auto end() const noexcept { return params_.end(); }

 private:
  std::pmr::vector<query_param> params_;
  std::pmr::vector<char> text_;
};

}  // namespace dusty::http
