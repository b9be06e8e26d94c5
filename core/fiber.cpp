#include <dusty/core/fiber.hpp>

#include <dusty/core/error.hpp>

#include <dusty/core/detail/shard.hpp>
#include <dusty/core/detail/stack_trim.hpp>

namespace dusty {

namespace {

struct join_hook final : detail::wait_hook {
  detail::fiber_context* target;
  void on_cancel(detail::fiber_context& self) noexcept override {
    target->joiner = nullptr;
    self.owner->make_ready(&self);
  }
};

struct sleep_hook final : detail::wait_hook {
  detail::timer_entry timer;
  detail::fiber_context* self;
  detail::timer_heap* timers;
  void on_cancel(detail::fiber_context& f) noexcept override {
    timers->remove(&timer);
    f.owner->make_ready(&f);
  }
};

}  // namespace

fiber& fiber::operator=(fiber&& other) noexcept {
  if (this != &other) {
    reset();
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

fiber::~fiber() { reset(); }

void fiber::reset() noexcept {
  if (!ctx_) return;
  auto* ctx = std::exchange(ctx_, nullptr);
  if (ctx->st == detail::fiber_context::state::done) {
    if (ctx->error) detail::log_escaped(ctx->error);
  } else {
    ctx->detached = true;
  }
  ctx->owner->release(ctx);
}

void fiber::detach() noexcept { reset(); }

bool fiber::done() const noexcept { return ctx_ && ctx_->st == detail::fiber_context::state::done; }

void fiber::cancel() noexcept {
  if (ctx_) ctx_->owner->cancel(ctx_);
}

void fiber::join() {
  if (!ctx_) throw std::logic_error("dusty::fiber::join on an empty handle");
  auto& sched = detail::shard::in_fiber().sched();
  auto* self = sched.current();
  if (self == ctx_) throw std::logic_error("dusty::fiber::join: a fiber cannot join itself");
  while (ctx_->st != detail::fiber_context::state::done) {
    if (self->cancellation_pending()) throw cancelled_error();
    join_hook hook;
    hook.target = ctx_;
    ctx_->joiner = self;
    sched.park(&hook);
  }
  auto* ctx = std::exchange(ctx_, nullptr);
  std::exception_ptr error = std::move(ctx->error);
  ctx->owner->release(ctx);
  if (error) std::rethrow_exception(error);
}

void fiber::join_uncancellable() noexcept {
  if (!ctx_) return;
  auto& sched = detail::shard::in_fiber().sched();
  auto* self = sched.current();
  // A cancel of the caller interrupts the park (join_hook::on_cancel makes it ready);
  // the loop parks again until the target is done.
  while (ctx_->st != detail::fiber_context::state::done) {
    join_hook hook;
    hook.target = ctx_;
    ctx_->joiner = self;
    sched.park(&hook);
  }
  auto* ctx = std::exchange(ctx_, nullptr);
  if (ctx->error) detail::log_escaped(ctx->error);
  ctx->error = nullptr;
  ctx->owner->release(ctx);
}

fiber spawn_with(std::move_only_function<void()> fn, fiber_options options) {
  auto* s = detail::shard::current();
  if (!s) throw std::system_error(make_error_code(errc::not_in_fiber), "dusty::spawn outside the runtime");
  return fiber(s->sched().spawn(std::move(fn), options.stack_size));
}

void yield() {
  auto& sched = detail::shard::in_fiber().sched();
  check_cancelled();
  sched.yield();
}

void sleep_until(std::chrono::steady_clock::time_point t) {
  auto& sh = detail::shard::in_fiber();
  auto* self = sh.sched().current();
  if (self->cancellation_pending()) throw cancelled_error();
  sleep_hook hook;
  hook.self = self;
  hook.timers = &sh.timers();
  hook.timer.when = t;
  hook.timer.data = self;
  hook.timer.fire = [](detail::timer_entry* e) {
    auto* f = static_cast<detail::fiber_context*>(e->data);
    f->owner->make_ready(f);
  };
  sh.timers().add(&hook.timer);
  sh.sched().park(&hook);
  if (hook.timer.armed()) sh.timers().remove(&hook.timer);
  if (self->cancellation_pending() && t > std::chrono::steady_clock::now()) throw cancelled_error();
}

void sleep_for(std::chrono::steady_clock::duration d) { sleep_until(std::chrono::steady_clock::now() + d); }

void release_memory_while_parked() { detail::request_stack_trim(*detail::shard::in_fiber().sched().current()); }

void release_idle_memory() {
  auto* s = detail::shard::current();
  if (!s) throw std::system_error(make_error_code(errc::not_in_fiber), "dusty::release_idle_memory outside the runtime");
  detail::request_idle_trim(s->sched());
}

std::size_t live_fibers() {
  auto* s = detail::shard::current();
  return s ? s->sched().live() : 0;
}

bool cancellation_pending() {
  auto& sh = detail::shard::in_fiber();
  return sh.sched().current()->cancellation_pending();
}

void check_cancelled() {
  if (cancellation_pending()) throw cancelled_error();
}

}  // namespace dusty
