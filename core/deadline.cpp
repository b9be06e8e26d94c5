#include <dusty/core/deadline.hpp>

#include <dusty/core/detail/shard.hpp>

namespace dusty::detail {

deadline_scope::deadline_scope(clock::time_point when) {
  auto& sh = shard::in_fiber();
  fiber_ = sh.sched().current();
  timers_ = &sh.timers();
  length_ = when - clock::now();
  scope_.parent = fiber_->scope;
  fiber_->scope = &scope_;
  timer_.when = when;
  timer_.data = this;
  timer_.fire = [](timer_entry* e) {
    auto* self = static_cast<deadline_scope*>(e->data);
    self->scope_.expired = true;
    self->fiber_->owner->interrupt(self->fiber_);
  };
  timers_->add(&timer_);
}

deadline_scope::~deadline_scope() {
  timers_->remove(&timer_);
  fiber_->scope = scope_.parent;
}

void deadline_scope::translate_expiry() const {
  if (!scope_.expired || fiber_->cancel_requested) return;
  for (auto* s = scope_.parent; s; s = s->parent)
    if (s->expired) return;
  throw timeout_error(length_);
}

}  // namespace dusty::detail
