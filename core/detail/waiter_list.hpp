#pragma once
// An intrusive FIFO of fibers parked on a synchronisation object, which may hand each waiter
// what it waits for (units, a value, a refusal) directly. A waiter that has been served
// never competes for it again, so later arrivals cannot barge ahead of it.
// Single-shard: every call on the owning shard's thread.
#include <dusty/core/detail/fiber_context.hpp>
#include <dusty/core/detail/intrusive_fifo.hpp>

#include <cstddef>

namespace dusty::detail {

class waiter_list;

/// One parked fiber, living on its stack. Derived types add what it waits for. The
/// default on_cancel() unlinks it and makes the fiber ready; override to do more.
struct list_waiter : wait_hook {
  fiber_context* fiber = nullptr;
  waiter_list* list = nullptr;
  list_waiter* prev = nullptr;
  list_waiter* next = nullptr;
  bool granted = false;
  void on_cancel(fiber_context& f) noexcept override;

 protected:
  ~list_waiter() = default;
};

class waiter_list {
 public:
  waiter_list() = default;
  waiter_list(const waiter_list&) = delete;
  waiter_list& operator=(const waiter_list&) = delete;

  bool empty() const noexcept { return waiters_.empty(); }
  std::size_t size() const noexcept { return size_; }
  /// The longest-waiting waiter, or nullptr.
  list_waiter* front() const noexcept { return waiters_.front(); }

  /// Parks the calling fiber as `w`, at the back, until grant(w). Throws cancelled_error
  /// (without parking if cancellation is already pending) when the fiber is cancelled
  /// first; `w` is then unlinked. A waiter granted and then cancelled before it runs
  /// returns normally: what it was handed is not lost.
  void wait(list_waiter& w);

  /// Unlinks `w`, marks it granted and queues its fiber to run.
  void grant(list_waiter* w) noexcept;
  /// Unlinks `w` without granting it.
  void erase(list_waiter* w) noexcept;

 private:
  intrusive_fifo<list_waiter> waiters_;
  std::size_t size_ = 0;
};

}  // namespace dusty::detail
