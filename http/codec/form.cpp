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

result<void> form_fields::parse(std::string_view body, const form_limits& limits) {
  (void)query_params::parse({});  // empty on every error
  if (body.size() > limits.max_size) return std::unexpected(make_error_code(errc::body_too_large));
  if (std::any_of(body.begin(), body.end(), [](char c) { return is_forbidden_byte(static_cast<unsigned char>(c)); }))
    return std::unexpected(make_error_code(errc::invalid_form));
  if (!query_params::parse(body, limits.max_fields)) return std::unexpected(make_error_code(errc::too_many_parts));
  return {};
}

}  // namespace dusty::http
