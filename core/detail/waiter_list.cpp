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
  w.next = nullptr;
  w.prev = tail_;
  if (tail_)
    tail_->next = &w;
  else
    head_ = &w;
  tail_ = &w;
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
  if (w->prev)
    w->prev->next = w->next;
  else
    head_ = w->next;
  if (w->next)
    w->next->prev = w->prev;
  else
    tail_ = w->prev;
  w->prev = w->next = nullptr;
  --size_;
}

}  // namespace dusty::detail
