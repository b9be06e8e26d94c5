#pragma once
// Deadline scopes: run a piece of a fiber's work under a time limit. When the limit
// passes, every wait inside the scope (I/O, sleep, lock, queue, join, cross-core reply)
// is interrupted and throws cancelled_error, and keeps throwing until the scope is left;
// at the scope's edge that becomes timeout_error. Scopes nest: an inner scope's expiry
// cancels only the inner work, and an outer scope that expires cancels everything in it.
// Every server and client timeout in dusty is built on this.
//
//   auto page = dusty::with_timeout(2s, [&] { return fetch_page(); });  // or timeout_error
#include <dusty/core/error.hpp>

#include <dusty/core/detail/cancel_scope.hpp>
#include <dusty/core/detail/timer_heap.hpp>

#include <chrono>
#include <utility>

namespace dusty {

namespace detail {

/// Puts a cancel scope on the calling fiber's chain and arms its timer; undone on
/// destruction. Use with_deadline/with_timeout instead.
class deadline_scope {
 public:
  explicit deadline_scope(clock::time_point when);
  ~deadline_scope();
  deadline_scope(const deadline_scope&) = delete;
  deadline_scope& operator=(const deadline_scope&) = delete;

  /// Called with a cancelled_error in flight: throws timeout_error when this scope's
  /// own expiry caused it (not an outer scope's, nor a cancel of the whole fiber).
  void translate_expiry() const;

 private:
  cancel_scope scope_;
  timer_entry timer_;
  fiber_context* fiber_;
  timer_heap* timers_;
  clock::duration length_;
};

}  // namespace detail

/// Runs fn() in the calling fiber; if `when` passes first, its waits are cancelled and
/// with_deadline throws timeout_error. Returns what fn returns. Call from a fiber.
template <class F>
decltype(auto) with_deadline(std::chrono::steady_clock::time_point when, F&& fn) {
  detail::deadline_scope scope(when);
  try {
    return std::forward<F>(fn)();
  } catch (const cancelled_error&) {
    scope.translate_expiry();
    throw;
  }
}

/// with_deadline(now + d, fn).
template <class F>
decltype(auto) with_timeout(std::chrono::steady_clock::duration d, F&& fn) {
  return with_deadline(std::chrono::steady_clock::now() + d, std::forward<F>(fn));
}

}  // namespace dusty
