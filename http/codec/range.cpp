#include <dusty/http/codec/range.hpp>

#include <dusty/http/codec/conditional.hpp>
#include <dusty/http/detail/ascii.hpp>
#include <dusty/http/request.hpp>
#include <dusty/http/response.hpp>

#include <algorithm>
#include <charconv>
#include <string>

namespace dusty::http {
namespace {

std::optional<std::uint64_t> parse_number(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) return UINT64_MAX;  // larger than any length
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// If-Range (RFC 9110 section 13.1.5): an entity-tag must match strongly, a date must be
// exactly the Last-Modified time; anything else means "send the whole thing".
bool if_range_allows(std::string_view value, const range_validator& v) {
  value = detail::trim_ows(value);
  if (auto tag = parse_etag(value)) {
    auto current = parse_etag(v.etag);
    return current && strong_match(*tag, *current);
  }
  auto date = parse_http_date(value);
  if (!date || !v.last_modified) return false;
  return std::chrono::floor<std::chrono::seconds>(*date) ==
         std::chrono::floor<std::chrono::seconds>(*v.last_modified);
}

}  // namespace

std::optional<std::vector<byte_range_spec>> parse_range(std::string_view value, std::size_t max_specs) {
  value = detail::trim_ows(value);
  auto eq = value.find('=');
  if (eq == std::string_view::npos || !detail::iequals(detail::trim_ows(value.substr(0, eq)), "bytes"))
    return std::nullopt;
  std::vector<byte_range_spec> specs;
  std::string_view rest = value.substr(eq + 1);
  while (true) {
    auto comma = rest.find(',');
    auto item = detail::trim_ows(rest.substr(0, comma));
    // Empty list elements are allowed (RFC 9110 section 5.6.1).
    if (!item.empty()) {
      if (specs.size() == max_specs) return std::nullopt;
      auto dash = item.find('-');
      if (dash == std::string_view::npos) return std::nullopt;
      auto a = item.substr(0, dash);
      auto b = item.substr(dash + 1);
      byte_range_spec s;
      if (a.empty()) {
        s.last = parse_number(b);
        if (!s.last) return std::nullopt;
      } else {
        s.first = parse_number(a);
        if (!s.first) return std::nullopt;
        if (!b.empty()) {
          s.last = parse_number(b);
          if (!s.last || *s.last < *s.first) return std::nullopt;
        }
      }
      specs.push_back(s);
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (specs.empty()) return std::nullopt;
  return specs;
}

range_plan plan_range(std::optional<std::string_view> range, std::uint64_t length) {
  range_plan whole{.status = 200, .first = 0, .last = length ? length - 1 : 0, .total = length};
  if (!range) return whole;
  auto specs = parse_range(*range);
  if (!specs) return whole;
  struct span {
    std::uint64_t first, last;
  };
  std::vector<span> spans;
  for (const auto& s : *specs) {
    if (!s.first) {
      if (*s.last == 0) continue;  // "-0" selects nothing
      // RFC 9110 section 14.1.1: of an empty representation a suffix range is the one
      // satisfiable form; it selects all of it (nothing), which is answered 200.
      if (length == 0) return whole;
      spans.push_back({length - std::min(*s.last, length), length - 1});
    } else {
      if (*s.first >= length) continue;  // starts past the end: unsatisfiable
      spans.push_back({*s.first, std::min(s.last.value_or(length - 1), length - 1)});
    }
  }
  if (spans.empty()) return {.status = 416, .first = 0, .last = 0, .total = length};
  std::sort(spans.begin(), spans.end(), [](const span& a, const span& b) { return a.first < b.first; });
  span merged = spans.front();
  for (std::size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].first > merged.last + 1) return whole;  // a gap: not worth multipart/byteranges
    merged.last = std::max(merged.last, spans[i].last);
  }
  if (merged.first == 0 && merged.last == length - 1) return whole;
  return {.status = 206, .first = merged.first, .last = merged.last, .total = length};
}

range_plan apply_range(const request& req, response& res, std::uint64_t length, const range_validator& validator) {
  std::optional<std::string_view> range;
  if (req.method() == method::get || req.method() == method::head) range = req.header("Range");
  if (range) {
    if (auto cond = req.header("If-Range"); cond && !if_range_allows(*cond, validator)) range.reset();
  }
  auto plan = plan_range(range, length);
  res.header("Accept-Ranges", "bytes");
  if (plan.status == 206) {
    res.status = 206;
    res.header("Content-Range", "bytes " + std::to_string(plan.first) + "-" + std::to_string(plan.last) + "/" +
                                    std::to_string(plan.total));
  } else if (plan.status == 416) {
    res.status = 416;
    res.header("Content-Range", "bytes */" + std::to_string(plan.total));
  }
  return plan;
}

}  // namespace dusty::http
