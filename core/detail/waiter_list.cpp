#include <dusty/core/detail/waiter_list.hpp>

#include <dusty/core/error.hpp>
#include <dusty/core/detail/shard.hpp>

namespace dusty::detail {

void list_waiter::on_cancel(fiber_context& f) noexcept {
  list->erase(this);
  f.owner->make_ready(&f);
}

void waiter_list::wait(list_waiter& w) {
  auto& sched = shard::in_fiber().sched();
  w.fiber = sched.current();
  if (w.fiber->cancellation_pending()) throw cancelled_error();
  w.list = this;
  w.granted = false;
  waiters_.push_back(&w);
  ++size_;
  sched.park(&w);
  if (!w.granted) throw cancelled_error();
}

void waiter_list::grant(list_waiter* w) noexcept {
  erase(w);
  w->granted = true;
  w->fiber->owner->make_ready(w->fiber);
}

void waiter_list::erase(list_waiter* w) noexcept {
  waiters_.unlink(w);
  --size_;
}

}  // namespace dusty::detail
