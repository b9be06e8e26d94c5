#pragma once
// The Date header value (RFC 9110 section 5.6.7), formatted at most once a second per
// shard: reading it costs one vDSO clock read.
#include <string_view>

namespace dusty::http::detail {

/// "Sun, 06 Nov 1994 08:49:37 GMT" for now, cached per thread.
std::string_view http_date() noexcept;

}  // namespace dusty::http::detail
