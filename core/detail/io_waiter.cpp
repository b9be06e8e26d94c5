#include <dusty/core/detail/io_waiter.hpp>

#include <dusty/core/error.hpp>
#include <dusty/core/detail/scheduler.hpp>

namespace dusty::detail {

void io_waiter_list::waiter::on_cancel(fiber_context&) noexcept { list->finish(this, outcome::cancelled); }

void io_waiter_list::finish(waiter* w, outcome o) noexcept {
  waiters_.unlink(w);
  if (w->timer.armed()) w->timers->remove(&w->timer);
  w->result = o;
  w->fiber->owner->make_ready(w->fiber);
}

result<void> io_waiter_list::wait(scheduler& s, timer_heap& timers, deadline d) {
  fiber_context* self = s.current();
  if (self->cancellation_pending()) throw cancelled_error();
  waiter w;
  w.fiber = self;
  w.list = this;
  w.timers = &timers;
  waiters_.push_back(&w);
  if (d != no_deadline) {
    w.timer.when = d;
    w.timer.data = &w;
    w.timer.fire = [](timer_entry* e) {
      auto* self = static_cast<waiter*>(e->data);
      self->list->finish(self, outcome::timed_out);
    };
    timers.add(&w.timer);
  }
  s.park(&w);
  switch (w.result) {
    case outcome::cancelled: throw cancelled_error();
    case outcome::timed_out: return fail(errc::timed_out);
    case outcome::closed: return fail(errc::closed);
    default: return {};
  }
}

void io_waiter_list::wake_one() noexcept {
  if (!waiters_.empty()) finish(waiters_.front(), outcome::woken);
}

void io_waiter_list::wake_all() noexcept {
  while (!waiters_.empty()) finish(waiters_.front(), outcome::woken);
}

void io_waiter_list::close_all() noexcept {
  while (!waiters_.empty()) finish(waiters_.front(), outcome::closed);
}

}  // namespace dusty::detail
