#pragma once
// result<T>: a value or the std::error_code that explains why there is none.
#include <expected>
#include <system_error>

namespace dusty {

/// What a call returns when the caller must decide what to do with a failure
/// (end of stream, refused connection, timeout). Fiber-level cancellation is not
/// reported this way: it throws `cancelled_error` so the fiber unwinds.
template <class T>
using result = std::expected<T, std::error_code>;

/// Builds the error side of a result: `return fail(errc::timed_out);`.
inline std::unexpected<std::error_code> fail(std::error_code ec) { return std::unexpected(ec); }

}  // namespace dusty
