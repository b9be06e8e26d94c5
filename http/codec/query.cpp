#include <dusty/http/codec/query.hpp>

#include <dusty/http/detail/ascii.hpp>

#include <algorithm>
#include <cassert>

namespace dusty::http {
namespace {

// Decodes one component if it needs it, appending to `scratch` at `used`.
std::string_view decode_component(std::string_view in, std::span<char> scratch, std::size_t& used) noexcept {
  if (!needs_decoding(in, plus_is_space::yes)) {
    return in;
  }
  char* start = scratch.data() + used;
  std::size_t size = percent_decode(in, scratch.subspan(used), plus_is_space::yes);
  used += size;
  return {start, size};
}

std::size_t count_pairs(std::string_view raw) noexcept {
  return static_cast<std::size_t>(std::count(raw.begin(), raw.end(), '&')) + 1;
}

}  // namespace

result<std::size_t> parse_query(std::string_view raw, std::span<query_param> out,
                                std::span<char> scratch) noexcept {
  assert(scratch.size() >= raw.size() || !needs_decoding(raw, plus_is_space::yes));
  std::size_t count = 0;
  std::size_t used = 0;
  while (!raw.empty()) {
    auto amp = raw.find('&');
    auto pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    if (count == out.size()) {
      return std::unexpected(make_error_code(errc::too_many_query_params));
    }
    auto eq = pair.find('=');
    auto key = pair.substr(0, eq);
    auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    out[count].key = decode_component(key, scratch, used);
    out[count].value = decode_component(value, scratch, used);
    ++count;
  }
  return count;
}

query_params::query_params(std::pmr::memory_resource* resource) : params_{resource}, text_{resource} {}

result<void> query_params::parse(std::string_view raw, std::size_t max_params) {
  params_.clear();
  text_.clear();
  if (raw.empty()) {
    return {};
  }
  params_.resize(std::min(count_pairs(raw), max_params));
  if (needs_decoding(raw, plus_is_space::yes)) {
    text_.resize(raw.size());
  }
  auto count = parse_query(raw, params_, text_);
  if (!count) {
    params_.clear();
    text_.clear();
    return std::unexpected(count.error());
  }
  params_.resize(*count);
  return {};
}

std::optional<std::string_view> query_params::get(std::string_view key) const noexcept {
  for (const auto& p : params_) {
    if (p.key == key) {
      return p.value;
    }
  }
  return std::nullopt;
}

}  // namespace dusty::http
