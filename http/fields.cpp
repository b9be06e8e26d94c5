#include <dusty/http/fields.hpp>

#include <dusty/http/detail/ascii.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace dusty::http {

std::optional<std::string_view> find_field(std::span<const header_field> fields, std::string_view name) noexcept {
  for (const auto& f : fields)
    if (detail::iequals(f.name, name)) return f.value;
  return std::nullopt;
}

bool is_valid_field_name(std::string_view name) noexcept {
  return detail::is_token(name);
}

bool is_valid_field_value(std::string_view value) noexcept {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

void validate_field(std::string_view name, std::string_view value) {
  // The name is quoted only when it is printable: it may be the offending part.
  if (!is_valid_field_name(name)) {
    bool printable = std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    throw std::invalid_argument(printable && !name.empty() ? "invalid header field name '" + std::string(name) + "'"
                                                           : std::string("invalid header field name"));
  }
  if (!is_valid_field_value(value))
    throw std::invalid_argument("invalid header field value for '" + std::string(name) + "'");
}

}  // namespace dusty::http
