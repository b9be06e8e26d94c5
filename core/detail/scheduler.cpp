#include <dusty/core/detail/scheduler.hpp>

#include <dusty/core/error.hpp>
#include <dusty/core/log.hpp>

#include <utility>

#if defined(DUSTY_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif

namespace dusty::detail {

void log_escaped(const std::exception_ptr& error) noexcept {
  try {
    std::rethrow_exception(error);
  } catch (const cancelled_error&) {
    // The normal end of a cancelled fiber (every fiber, at shutdown): not a failure.
    log::debug("fiber nobody joined ended by cancellation");
  } catch (const std::exception& e) {
    log::error("fiber exited with an exception nobody joined: ", e.what());
  } catch (...) {
    log::error("fiber exited with a non-standard exception nobody joined");
  }
}

scheduler::scheduler(std::size_t stack_size, std::size_t max_cached_stacks)
    : stacks_(stack_size, max_cached_stacks) {}

scheduler::~scheduler() = default;

fiber_context* scheduler::spawn(std::move_only_function<void()> body, std::size_t stack_size) {
  auto* f = new fiber_context;
  f->body = std::move(body);
  f->owner = this;
  f->cancel_requested = cancel_new_;
  pooled_stack_allocator alloc{&stacks_, stack_size};
#if defined(DUSTY_ASAN)
  boost::context::stack_context stack;
  alloc.record = &stack;
#endif
  f->resume_point = boost::context::fiber(
      std::allocator_arg, alloc, [f](boost::context::fiber&& loop) -> boost::context::fiber {
#if defined(DUSTY_ASAN)
        __sanitizer_finish_switch_fiber(nullptr, &f->caller_bottom, &f->caller_size);
#endif
        f->scheduler_point = std::move(loop);
        try {
          f->body();
        } catch (const boost::context::detail::forced_unwind&) {
          throw;
        } catch (...) {
          f->error = std::current_exception();
        }
        f->body = nullptr;
        f->st = fiber_context::state::done;
#if defined(DUSTY_ASAN)
        __sanitizer_start_switch_fiber(nullptr, f->caller_bottom, f->caller_size);
#endif
        return std::move(f->scheduler_point);
      });
#if defined(DUSTY_ASAN)
  f->stack_bottom = static_cast<char*>(stack.sp) - stack.size;
  f->stack_size = stack.size;
#endif
  f->next_live = live_head_;
  if (live_head_) live_head_->prev_live = f;
  live_head_ = f;
  ++live_count_;
  f->st = fiber_context::state::parked;  // so make_ready queues it
  make_ready(f);
  return f;
}

void scheduler::make_ready(fiber_context* f) noexcept {
  if (f->st != fiber_context::state::parked) return;
  f->st = fiber_context::state::ready;
  f->hook = nullptr;
  f->next_ready = nullptr;
  if (ready_tail_)
    ready_tail_->next_ready = f;
  else
    ready_head_ = f;
  ready_tail_ = f;
}

std::size_t scheduler::run_ready() {
  fiber_context* last = ready_tail_;
  std::size_t ran = 0;
  while (fiber_context* f = ready_head_) {
    ready_head_ = f->next_ready;
    if (!ready_head_) ready_tail_ = nullptr;
    switch_to(f);
    ++ran;
    if (f == last) break;
  }
  return ran;
}

void scheduler::switch_to(fiber_context* f) {
  current_ = f;
  f->st = fiber_context::state::running;
#if defined(DUSTY_ASAN)
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, f->stack_bottom, f->stack_size);
#endif
  f->resume_point = std::move(f->resume_point).resume();
#if defined(DUSTY_ASAN)
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
  current_ = nullptr;
  if (f->st == fiber_context::state::done) finish(f);
}

void scheduler::suspend_current() noexcept {
  fiber_context* f = current_;
#if defined(DUSTY_ASAN)
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, f->caller_bottom, f->caller_size);
#endif
  f->scheduler_point = std::move(f->scheduler_point).resume();
#if defined(DUSTY_ASAN)
  __sanitizer_finish_switch_fiber(fake_stack, &f->caller_bottom, &f->caller_size);
#endif
}

void scheduler::park(wait_hook* hook) noexcept {
  fiber_context* f = current_;
  f->st = fiber_context::state::parked;
  f->hook = hook;
  f->cancel_delivered = false;
  suspend_current();
}

void scheduler::yield() noexcept {
  fiber_context* f = current_;
  f->st = fiber_context::state::parked;
  make_ready(f);
  suspend_current();
}

void scheduler::interrupt(fiber_context* f) noexcept {
  if (f->st != fiber_context::state::parked || !f->hook || f->cancel_delivered) return;
  f->cancel_delivered = true;
  f->hook->on_cancel(*f);
}

void scheduler::cancel(fiber_context* f) noexcept {
  if (f->st == fiber_context::state::done) return;
  f->cancel_requested = true;
  interrupt(f);
}

void scheduler::cancel_all() noexcept {
  cancel_new_fibers();
  for (fiber_context* f = live_head_; f; f = f->next_live) cancel(f);
}

void scheduler::finish(fiber_context* f) noexcept {
  // The fiber's stack was released by Boost.Context when its function returned.
  if (f->prev_live)
    f->prev_live->next_live = f->next_live;
  else
    live_head_ = f->next_live;
  if (f->next_live) f->next_live->prev_live = f->prev_live;
  --live_count_;
  if (f->joiner) make_ready(std::exchange(f->joiner, nullptr));
  if (f->detached && f->error) log_escaped(f->error);
  release(f);
}

void scheduler::release(fiber_context* f) noexcept {
  if (--f->refs == 0) delete f;
}

}  // namespace dusty::detail
