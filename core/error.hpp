#pragma once
// Errors of the core runtime: an error category, and the two exceptions a fiber sees
// when the work it is doing is called off.
#include <chrono>
#include <string>
#include <system_error>

namespace dusty {

/// Conditions the runtime reports. Operating-system failures keep their
/// `std::generic_category()` (errno) codes; these are the runtime's own.
enum class errc {
  cancelled = 1,       ///< The fiber, or a deadline scope around it, was cancelled.
  timed_out,           ///< A deadline passed before the operation completed.
  eof,                 ///< The peer closed its side of the stream.
  invalid_config,      ///< A runtime_config field is out of range.
  not_in_fiber,        ///< A call that suspends was made outside a fiber.
  broken_promise,      ///< A cross-core task was dropped before it produced a result.
  closed,              ///< The channel, listener or stream was closed.
};

/// The category of errc, named "dusty.core" (beside "dusty.net" and "dusty.http").
const std::error_category& error_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

/// Thrown from any suspending call (I/O, sleep, lock, queue, cross-core reply) of a fiber
/// that has been cancelled, or whose deadline scope has expired. Catch it only to clean up:
/// cancellation is sticky, so every later wait in the same fiber (or scope) throws again.
class cancelled_error : public std::system_error {
 public:
  cancelled_error() : std::system_error(make_error_code(errc::cancelled), "fiber cancelled") {}
};

/// Thrown by `with_timeout` when its own deadline expired before the work finished.
class timeout_error : public std::system_error {
 public:
  explicit timeout_error(std::chrono::nanoseconds after);
};

}  // namespace dusty

template <>
struct std::is_error_code_enum<dusty::errc> : std::true_type {};
