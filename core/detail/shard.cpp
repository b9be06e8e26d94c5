#include <dusty/core/detail/shard.hpp>

#include <dusty/core/error.hpp>

#include <dusty/core/detail/runtime_state.hpp>

namespace dusty::detail {

thread_local shard* shard::current_ = nullptr;

shard::shard(runtime_state& rt, unsigned id)
    : rt_(rt),
      id_(id),
      count_(*rt.config.shards),
      sched_(rt.config.fiber_stack_size, rt.config.cached_stacks),
      overflow_(count_) {}

shard::~shard() = default;

shard& shard::in_fiber() {
  shard* s = current_;
  if (!s || !s->sched_.current()) throw std::system_error(make_error_code(errc::not_in_fiber));
  return *s;
}

void shard::init_backend() {
  const auto& c = rt_.config;
  if (rt_.backend == backend_kind::io_uring)
    io_ = make_uring_backend({c.io_uring.entries, c.io_uring.recv_buffers, c.io_uring.recv_buffer_size},
                             sched_, timers_);
  else
    io_ = make_epoll_backend(sched_, timers_);
}

void shard::send(unsigned target, xcore_message* m) {
  if (!m->is_reply) ++outstanding_;
  auto& pending = overflow_[target];
  if (pending.empty() && rt_.ring(id_, target).push(m)) {
    rt_.shards[target]->wake(this);
    return;
  }
  pending.push_back(m);
  ++overflow_count_;
}

void shard::flush_overflow() {
  if (overflow_count_ == 0) return;
  for (unsigned target = 0; target < overflow_.size(); ++target) {
    auto& pending = overflow_[target];
    bool pushed = false;
    while (!pending.empty() && rt_.ring(id_, target).push(pending.front())) {
      pending.pop_front();
      --overflow_count_;
      pushed = true;
    }
    if (pushed) rt_.shards[target]->wake(this);
  }
}

void shard::wake(shard* from) noexcept {
  // Pairs with the fence in run(): either the sleeper sees our message when it re-checks,
  // or we see it asleep and wake it. A shard that is awake costs no system call.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (sleeping_.load(std::memory_order_relaxed) && sleeping_.exchange(false)) {
    backend* via = from && from->io_ ? from->io_.get() : nullptr;
    io_->wake(via);
  }
}

bool shard::poll_cross_core() {
  bool any = false;
  for (unsigned source = 0; source < rt_.count(); ++source) {
    auto& ring = rt_.ring(source, id_);
    xcore_message* m;
    while (ring.pop(m)) {
      any = true;
      if (m->is_reply) {
        --outstanding_;
        m->complete();
      } else {
        sched_.release(sched_.spawn([this, m] {
          m->execute();
          m->is_reply = true;
          send(m->source, m);
        }));
      }
    }
  }
  flush_overflow();
  return any;
}

bool shard::quiet() const noexcept {
  if (sched_.live() || sched_.has_ready() || outstanding_ || overflow_count_) return false;
  for (unsigned source = 0; source < rt_.count(); ++source)
    if (!rt_.ring(source, id_).empty()) return false;
  return true;
}

clock::duration shard::sleep_budget() const {
  if (sched_.has_ready() || overflow_count_) return clock::duration::zero();
  if (timers_.empty()) return clock::duration(-1);
  auto left = timers_.next() - clock::now();
  return left > clock::duration::zero() ? left : clock::duration::zero();
}

void shard::run() {
  current_ = this;
  for (;;) {
    sched_.run_ready();
    poll_cross_core();
    if (stop_signal_.exchange(false, std::memory_order_acq_rel)) stop_waiters_.notify_all();
    if (!timers_.empty()) timers_.fire_expired(clock::now());

    if (rt_.exiting.load(std::memory_order_acquire)) {
      if (!exiting_) {
        exiting_ = true;
        sched_.cancel_all();
        continue;  // let the cancelled fibers unwind before judging quietness
      }
      bool q = quiet();
      if (q && counted_busy_) {
        counted_busy_ = false;
        if (rt_.busy.fetch_sub(1, std::memory_order_acq_rel) == 1)
          for (auto& s : rt_.shards) s->wake(this);
      } else if (!q && !counted_busy_) {
        counted_busy_ = true;
        rt_.busy.fetch_add(1, std::memory_order_acq_rel);
      }
      if (!counted_busy_ && rt_.busy.load(std::memory_order_acquire) == 0) break;
    }

    clock::duration budget = sleep_budget();
    if (budget != clock::duration::zero()) {
      sleeping_.store(true, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      bool work = stop_signal_.load(std::memory_order_relaxed) ||
                  (rt_.exiting.load(std::memory_order_relaxed) &&
                   (!exiting_ || rt_.busy.load(std::memory_order_relaxed) == 0));
      for (unsigned source = 0; !work && source < rt_.count(); ++source)
        work = !rt_.ring(source, id_).empty();
      if (work) budget = clock::duration::zero();
    }
    io_->poll(budget);
    sleeping_.store(false, std::memory_order_relaxed);
  }
  current_ = nullptr;
}

}  // namespace dusty::detail
