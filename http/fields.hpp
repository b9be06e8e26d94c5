#pragma once
// Header fields: the one representation every protocol and helper shares, the lookup
// over a list of them, and the one check that decides what may be written to the wire.
//
// Every field dusty writes — a response header a handler sets, a client request header,
// a test request's header — passes validate_field() first. Names are RFC 9110 tokens;
// values hold no CR, LF or NUL (RFC 9110 section 5.5: the bytes a recipient must reject),
// so a handler that reflects input into a header cannot split the response or smuggle a
// second one (CWE-113). Other control bytes are not field-vchars either, but they cannot
// end a line: they are left to the sender's judgement, as most servers do.
#include <optional>
#include <span>
#include <string_view>

namespace dusty::http {

/// One header field. Views: into the parser's buffer for received fields (valid for the
/// request), into the response's arena for fields a handler set. The value has no leading
/// or trailing whitespace when it was received; names keep the case they were given.
struct header_field {
  std::string_view name;
  std::string_view value;
};

/// The value of the first field in `fields` named `name` (ASCII case-insensitive), if any.
std::optional<std::string_view> find_field(std::span<const header_field> fields, std::string_view name) noexcept;

/// An RFC 9110 token: one or more tchars.
bool is_valid_field_name(std::string_view name) noexcept;
/// No CR, LF or NUL; empty is allowed.
bool is_valid_field_value(std::string_view value) noexcept;

/// Throws std::invalid_argument naming the field ("invalid header field value for
/// 'Location'") unless both parts are valid. Never suspends.
void validate_field(std::string_view name, std::string_view value);

}  // namespace dusty::http
