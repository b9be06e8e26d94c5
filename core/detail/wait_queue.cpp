#include <dusty/core/detail/wait_queue.hpp>

#include <dusty/core/error.hpp>
#include <dusty/core/detail/shard.hpp>

namespace dusty::detail {

void wait_queue::waiter::on_cancel(fiber_context& f) noexcept {
  queue->unlink(this);
  f.owner->make_ready(&f);
}

void wait_queue::wait() {
  auto& sched = shard::in_fiber().sched();
  fiber_context* self = sched.current();
  if (self->cancellation_pending()) throw cancelled_error();
  waiter w;
  w.fiber = self;
  w.queue = this;
  w.prev = tail_;
  if (tail_)
    tail_->next = &w;
  else
    head_ = &w;
  tail_ = &w;
  sched.park(&w);
  if (!w.notified) throw cancelled_error();
}

void wait_queue::unlink(waiter* w) noexcept {
  if (w->prev)
    w->prev->next = w->next;
  else
    head_ = w->next;
  if (w->next)
    w->next->prev = w->prev;
  else
    tail_ = w->prev;
  w->prev = w->next = nullptr;
}

bool wait_queue::notify_one() noexcept {
  waiter* w = head_;
  if (!w) return false;
  unlink(w);
  w->notified = true;
  w->fiber->owner->make_ready(w->fiber);
  return true;
}

std::size_t wait_queue::notify_all() noexcept {
  std::size_t n = 0;
  while (notify_one()) ++n;
  return n;
}

}  // namespace dusty::detail
