#pragma once
// Cross-core calls. Shards share nothing; to use another shard's state, send it a
// function: submit_to(shard, fn) runs fn in a fresh fiber on that shard and returns a
// future the calling fiber waits on. Messages travel on lock-free single-producer rings,
// one per ordered pair of shards; a sleeping shard is woken (io_uring: IORING_OP_MSG_RING,
// epoll: an eventfd), an awake one is not disturbed by any system call.
#include <dusty/core/error.hpp>
#include <dusty/core/detail/shard.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace dusty {

template <class T>
class future;

namespace detail {

template <class T>
struct call_state : xcore_message {
  using value_type = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
  std::optional<value_type> value;
  std::exception_ptr error;
  scheduler* home = nullptr;
  fiber_context* waiter = nullptr;
  bool done = false;
  bool abandoned = false;  // the future was dropped: free on arrival

  virtual ~call_state() = default;
  void complete() noexcept override {
    done = true;
    if (abandoned)
      delete this;
    else if (waiter)
      home->make_ready(waiter);
  }
};

template <class T, class F>
struct call final : call_state<T> {
  F fn;
  explicit call(F&& f) : fn(std::move(f)) {}
  void execute() noexcept override {
    try {
      if constexpr (std::is_void_v<T>) {
        fn();
        this->value.emplace();
      } else {
        this->value.emplace(fn());
      }
    } catch (...) {
      this->error = std::current_exception();
    }
  }
};

}  // namespace detail

/// The result of submit_to, to be waited on by a fiber of the shard that submitted.
/// Dropping a future without get() is allowed: the work still runs, its result is freed.
template <class T>
class future {
 public:
  future() = default;
  future(future&& o) noexcept : st_(std::exchange(o.st_, nullptr)) {}
  future& operator=(future&& o) noexcept {
    if (this != &o) {
      drop();
      st_ = std::exchange(o.st_, nullptr);
    }
    return *this;
  }
  ~future() { drop(); }

  /// True once the result (or exception) has come back.
  bool ready() const noexcept { return st_ && st_->done; }
  bool valid() const noexcept { return st_ != nullptr; }

  /// Suspends until the result arrives, then returns it or rethrows the exception the
  /// function threw on the other shard. Throws cancelled_error if the waiting fiber is
  /// cancelled first; the remote function still runs to completion. Single use.
  T get() {
    if (!st_) throw std::logic_error("dusty::future::get on an empty future");
    auto& sched = detail::shard::in_fiber().sched();
    auto* self = sched.current();
    while (!st_->done) {
      if (self->cancellation_pending()) throw cancelled_error();
      hook h;
      h.st = st_;
      st_->waiter = self;
      sched.park(&h);
      st_->waiter = nullptr;
    }
    std::unique_ptr<detail::call_state<T>> st(std::exchange(st_, nullptr));
    if (st->error) std::rethrow_exception(st->error);
    if constexpr (!std::is_void_v<T>) return std::move(*st->value);
  }

 private:
  template <class F>
  friend auto submit_to(unsigned shard, F fn) -> future<std::invoke_result_t<F&>>;
  explicit future(detail::call_state<T>* st) noexcept : st_(st) {}

  struct hook final : detail::wait_hook {
    detail::call_state<T>* st;
    void on_cancel(detail::fiber_context& f) noexcept override {
      st->waiter = nullptr;
      f.owner->make_ready(&f);
    }
  };

  void drop() noexcept {
    if (!st_) return;
    if (st_->done)
      delete st_;
    else
      st_->abandoned = true;
    st_ = nullptr;
  }

  detail::call_state<T>* st_ = nullptr;
};

/// Runs fn() in a new fiber on `shard` (which may be the caller's own) and returns a
/// future for its result. fn is moved to the other shard: capture by value what it
/// needs, never references to the caller's shard-local state. Call from a fiber.
/// Throws std::out_of_range for a shard index not below shard_count().
template <class F>
auto submit_to(unsigned shard, F fn) -> future<std::invoke_result_t<F&>> {
  using T = std::invoke_result_t<F&>;
  auto& here = detail::shard::in_fiber();
  if (shard >= here.count())
    throw std::out_of_range("submit_to: shard " + std::to_string(shard) + " does not exist");
  auto* c = new detail::call<T, F>(std::move(fn));
  c->source = here.id();
  c->home = &here.sched();
  here.send(shard, c);
  return future<T>(c);
}

}  // namespace dusty
