#include <dusty/http/codec/form.hpp>

#include <dusty/http/detail/ascii.hpp>

#include <algorithm>

namespace dusty::http {
namespace {

bool is_forbidden_byte(unsigned char c) noexcept {
  return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f;
}

}  // namespace

bool is_form_urlencoded(std::string_view content_type) noexcept {
  auto semi = content_type.find(';');
  return detail::iequals(detail::trim_ows(content_type.substr(0, semi)), form_urlencoded_type);
}

form_fields::form_fields(std::pmr::memory_resource* resource) : fields_{resource}, text_{resource} {}

result<void> form_fields::parse(std::string_view body, const form_limits& limits) {
  fields_.clear();
  text_.clear();
  if (body.size() > limits.max_size) return std::unexpected(make_error_code(errc::body_too_large));
  if (std::any_of(body.begin(), body.end(), [](char c) { return is_forbidden_byte(static_cast<unsigned char>(c)); }))
    return std::unexpected(make_error_code(errc::invalid_form));
  if (body.empty()) return {};
  // parse_query needs an output slot per pair: at most one more than there are '&'.
  auto pairs = static_cast<std::size_t>(std::count(body.begin(), body.end(), '&')) + 1;
  fields_.resize(std::min(pairs, limits.max_fields));
  if (needs_decoding(body, plus_is_space::yes)) text_.resize(body.size());
  auto count = parse_query(body, fields_, text_);
  if (!count) {
    fields_.clear();
    text_.clear();
    return std::unexpected(make_error_code(errc::too_many_parts));
  }
  fields_.resize(*count);
  return {};
}

std::optional<std::string_view> form_fields::get(std::string_view name) const noexcept {
  for (const auto& f : fields_)
    if (f.key == name) return f.value;
  return std::nullopt;
}

}  // namespace dusty::http
