// The io_uring reactor. One ring per shard, created on the shard's thread with
// SINGLE_ISSUER and DEFER_TASKRUN (kernel 6.1+) where available, so completions are
// processed only when the shard asks, in batches, with no cross-CPU task work. All
// submissions of a loop turn go to the kernel in one io_uring_enter.
//
// user_data is either the address of a uring_op on a parked fiber's stack, the address
// of a listener with the low bit set (multishot accept), the address of an input_watch
// with bit 1 set (its poll), or one of the small tags below.
//
// Deadlines live on the shard's timer heap, not in IORING_OP_LINK_TIMEOUT: a linked
// timeout costs a second SQE, an hrtimer armed and disarmed, and, when the operation
// finishes first (nearly always), an -ECANCELED completion that the kernel (6.x,
// io_disarm_next) posts through deferred task work: with dusty-hello under wrk -c256,
// half of all completions and two thirds of all task-work items. An expired deadline
// instead sends an IORING_OP_ASYNC_CANCEL, as fiber cancellation does.
#include <dusty/core/detail/backend.hpp>
#include <dusty/core/detail/io_waiter.hpp>
#include <dusty/core/detail/pipe_pool.hpp>
#include <dusty/core/detail/scheduler.hpp>

#include <dusty/core/error.hpp>
#include <dusty/core/log.hpp>

#include <liburing.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

namespace dusty::detail {
namespace {

constexpr std::uint64_t tag_ignore = 1 << 3;      // timeouts, cancels, MSG_RING sender side
constexpr std::uint64_t tag_wake_read = 2 << 3;   // the eventfd read that wakes a sleeping ring
constexpr std::uint64_t tag_msg_wake = 3 << 3;    // arrives on a target ring from MSG_RING
constexpr std::uint64_t listener_bit = 1;
constexpr std::uint64_t watch_bit = 2;  // an input_watch's poll

class uring_backend;

// One submitted operation; lives on the waiting fiber's stack until its CQE arrives.
struct uring_op final : wait_hook {
  uring_backend* backend = nullptr;
  fiber_context* fiber = nullptr;
  timer_entry timer;  // the operation's deadline, when it has one
  int res = 0;
  std::uint32_t flags = 0;
  bool done = false;
  bool cancel_sent = false;  // an ASYNC_CANCEL for it is queued or in flight
  bool cancelled = false;    // the fiber was cancelled
  bool timed_out = false;    // the deadline passed
  void on_cancel(fiber_context&) noexcept override;
};

// A listening socket with a multishot accept armed: accepted descriptors queue here
// until a fiber takes them.
struct listener {
  int fd;
  bool armed = false;
  bool closing = false;
  int error = 0;
  std::deque<int> ready;
  io_waiter_list waiters;
};

class uring_backend final : public backend {
 public:
  uring_backend(const uring_params& p, scheduler& s, timer_heap& t) : sched_(s), timers_(t) {
    io_uring_params params{};
    params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER |
                   IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    params.cq_entries = p.entries * 4;
    int r = io_uring_queue_init_params(p.entries, &ring_, &params);
    if (r == -EINVAL) {
      // Kernels before 6.1 reject DEFER_TASKRUN/SINGLE_ISSUER; run without them.
      params = {};
      params.flags = IORING_SETUP_CQSIZE;
      params.cq_entries = p.entries * 4;
      r = io_uring_queue_init_params(p.entries, &ring_, &params);
    }
    if (r < 0) throw std::system_error(-r, std::generic_category(), "io_uring_queue_init");
    features_ = params.features;
    // With deferred task work the kernel raises IORING_SQ_TASKRUN whenever completions
    // wait to be run, so a poll that must not block can skip io_uring_enter when that
    // flag is clear and nothing is queued: a loop turn with no I/O makes no system call.
    flag_tells_task_work_ = (params.flags & IORING_SETUP_TASKRUN_FLAG) != 0;

    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
      io_uring_queue_exit(&ring_);
      throw std::system_error(errno, std::generic_category(), "eventfd");
    }
    arm_wake_read();
    setup_buffer_ring(p.recv_buffers, p.recv_buffer_size);
  }

  ~uring_backend() override {
    // Every fiber has finished, so only the backend's own operations (and watches whose
    // owners are gone) can be pending: cancel them all and reap until the kernel has let
    // go of our memory.
    tearing_down_ = true;
    if (io_uring_sqe* sqe = get_sqe()) {
      io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
      io_uring_sqe_set_data64(sqe, tag_ignore);
    }
    io_uring_submit_and_get_events(&ring_);
    reap();
    for (auto& [fd, l] : listeners_)
      for (int c : l->ready) ::close(c);
    if (buf_ring_) {
      io_uring_unregister_buf_ring(&ring_, 0);
      ::munmap(buf_ring_, buf_ring_bytes_);
      ::munmap(buf_mem_, buf_mem_bytes_);
    }
    io_uring_queue_exit(&ring_);
    ::close(wake_fd_);
  }

  backend_kind kind() const noexcept override { return backend_kind::io_uring; }

  void poll(clock::duration timeout) override {
    int r;
    if (timeout == clock::duration::zero()) {
      if (flag_tells_task_work_ && io_uring_sq_ready(&ring_) == 0 &&
          !(IO_URING_READ_ONCE(*ring_.sq.kflags) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW))) {
        reap();
        return;
      }
      r = io_uring_submit_and_get_events(&ring_);
    } else if (timeout < clock::duration::zero()) {
      r = io_uring_submit_and_wait(&ring_, 1);
    } else {
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
      __kernel_timespec ts{ns / 1'000'000'000, ns % 1'000'000'000};
      io_uring_cqe* cqe = nullptr;
      r = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    }
    if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY && r != -EAGAIN)
      log::error("io_uring_enter failed: ", std::strerror(-r));
    reap();
  }

  void wake(backend* from) noexcept override {
    if (from && from->kind() == backend_kind::io_uring) {
      static_cast<uring_backend*>(from)->send_msg_ring(ring_.ring_fd);
      return;
    }
    std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
  }

  result<int> accept(int fd, sockaddr* addr, socklen_t* len, deadline d) override {
    std::shared_ptr<listener> l = listener_for(fd);
    for (;;) {
      if (!l->ready.empty()) {
        int c = l->ready.front();
        l->ready.pop_front();
        if (addr && len) ::getpeername(c, addr, len);
        return c;
      }
      if (l->error) return fail(errno_code(-std::exchange(l->error, 0)));
      if (l->closing) return fail(errc::closed);
      if (!l->armed) arm_accept(*l);
      if (auto r = l->waiters.wait(sched_, timers_, d); !r) return fail(r.error());
    }
  }

  result<void> connect(int fd, const sockaddr* addr, socklen_t len, deadline d) override {
    auto r = submit(d, [&](io_uring_sqe* sqe) { io_uring_prep_connect(sqe, fd, addr, len); });
    if (!r) return fail(r.error());
    return {};
  }

  result<std::size_t> recv(int fd, std::span<std::byte> buf, deadline d) override {
    return sized(submit(d, [&](io_uring_sqe* sqe) { io_uring_prep_recv(sqe, fd, buf.data(), buf.size(), 0); }));
  }

  result<std::size_t> recv_lazy(int fd, std::size_t max, buffer_source source, deadline d) override {
    if (!buf_ring_) return recv(fd, source().first(max), d);
    unsigned len = static_cast<unsigned>(std::min(max, buf_size_));
    std::uint32_t flags = 0;
    auto r = submit(
        d,
        [&](io_uring_sqe* sqe) {
          io_uring_prep_recv(sqe, fd, nullptr, len, 0);
          sqe->flags |= IOSQE_BUFFER_SELECT;
          sqe->buf_group = 0;
        },
        &flags);
    if (flags & IORING_CQE_F_BUFFER) {
      unsigned id = flags >> IORING_CQE_BUFFER_SHIFT;
      std::byte* data = buf_mem_ + std::size_t{id} * buf_size_;
      if (r && *r > 0) std::memcpy(source().data(), data, static_cast<std::size_t>(*r));
      io_uring_buf_ring_add(buf_ring_, data, static_cast<unsigned>(buf_size_), static_cast<unsigned short>(id),
                            io_uring_buf_ring_mask(buf_count_), 0);
      io_uring_buf_ring_advance(buf_ring_, 1);
      --buffers_held_;
    }
    if (!r && r.error() == std::error_code(ENOBUFS, std::generic_category()))
      return recv(fd, source().first(max), d);  // every provided buffer is in use right now
    return sized(r);
  }

  result<std::size_t> send(int fd, std::span<const std::byte> buf, deadline d) override {
    return sized(
        submit(d, [&](io_uring_sqe* sqe) { io_uring_prep_send(sqe, fd, buf.data(), buf.size(), MSG_NOSIGNAL); }));
  }

  result<std::size_t> sendv(int fd, std::span<const iovec> bufs, deadline d) override {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(bufs.data());
    msg.msg_iovlen = bufs.size();
    return sized(submit(d, [&](io_uring_sqe* sqe) { io_uring_prep_sendmsg(sqe, fd, &msg, MSG_NOSIGNAL); }));
  }

  result<std::size_t> read(int fd, std::span<std::byte> buf, deadline d) override {
    for (;;) {
      auto r = submit(d, [&](io_uring_sqe* sqe) {
        io_uring_prep_read(sqe, fd, buf.data(), static_cast<unsigned>(buf.size()), ~0ull);
      });
      // Files the kernel cannot read asynchronously (signalfd before 6.x lacks
      // FMODE_NOWAIT) hand a non-blocking descriptor's EAGAIN back: wait until it is
      // readable, then read again.
      if (r || r.error() != std::errc::resource_unavailable_try_again) return sized(r);
      auto ready = submit(d, [&](io_uring_sqe* sqe) { io_uring_prep_poll_add(sqe, fd, POLLIN); });
      if (!ready) return fail(ready.error());
    }
  }

  result<std::size_t> write(int fd, std::span<const std::byte> buf, deadline d) override {
    return sized(submit(d, [&](io_uring_sqe* sqe) {
      io_uring_prep_write(sqe, fd, buf.data(), static_cast<unsigned>(buf.size()), ~0ull);
    }));
  }

  result<std::size_t> read_at(int fd, std::span<std::byte> buf, std::uint64_t offset, deadline d) override {
    return sized(submit(d, [&](io_uring_sqe* sqe) {
      io_uring_prep_read(sqe, fd, buf.data(), static_cast<unsigned>(buf.size()), offset);
    }));
  }

  result<std::size_t> send_file(int sock_fd, int file_fd, std::uint64_t offset, std::size_t count,
                                deadline d) override {
    pipe_lease pipe(pipes_);
    if (!pipe) return fail(std::error_code(errno, std::generic_category()));
    auto in = submit(d, [&](io_uring_sqe* sqe) {
      io_uring_prep_splice(sqe, file_fd, static_cast<std::int64_t>(offset), pipe.write_end(), -1,
                           static_cast<unsigned>(std::min(count, pipes_.capacity())), SPLICE_F_MOVE);
    });
    if (!in) return fail(in.error());
    // IORING_OP_SPLICE always runs in a kernel worker, where a non-blocking socket gives
    // EAGAIN rather than waiting (lalinsky/zio#630). The pipe -> socket half cannot block
    // on anything but the socket, so it is a direct call, and a full socket a POLLOUT wait.
    for (std::size_t left = static_cast<std::size_t>(*in); left > 0;) {
      ssize_t n = ::splice(pipe.read_end(), nullptr, sock_fd, nullptr, left, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        left -= static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EAGAIN) {
        auto ready = submit(d, [&](io_uring_sqe* sqe) { io_uring_prep_poll_add(sqe, sock_fd, POLLOUT); });
        if (!ready) return fail(ready.error());
      } else if (n < 0 && errno != EINTR) {
        return fail(std::error_code(errno, std::generic_category()));
      }
    }
    pipe.give_back();
    return static_cast<std::size_t>(*in);
  }

  void watch_input(input_watch& w, deadline d) override {
    io_uring_sqe* sqe = get_sqe();
    if (!sqe) throw std::system_error(EAGAIN, std::generic_category(), "io_uring: no submission slot for a poll");
    io_uring_prep_poll_add(sqe, w.fd, POLLIN | POLLRDHUP);
    io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(&w) | watch_bit);
    w.backend = this;
    if (d != no_deadline) {
      w.timer.when = d;
      w.timer.data = &w;
      w.timer.fire = [](timer_entry* e) {
        auto* watch = static_cast<input_watch*>(e->data);
        static_cast<uring_backend*>(watch->backend)->expire(*watch);
      };
      timers_.add(&w.timer);
    }
  }

  // The kernel takes provided buffers in ring order, so under load every one of them gets
  // touched and stays resident (4 MiB by default) though each holds data only for a moment.
  // When none holds data, their pages can go: the kernel writes into them only while
  // this thread is inside io_uring_enter (deferred task work), never now.
  void release_idle_memory() noexcept override {
    if (!buf_mem_ || buffers_held_ != 0) return;
    ::madvise(buf_mem_, std::size_t{buf_count_} * buf_size_, MADV_DONTNEED);
  }

  void forget(int fd) noexcept override {
    auto it = listeners_.find(fd);
    if (it == listeners_.end()) return;
    std::shared_ptr<listener> l = std::move(it->second);
    listeners_.erase(it);
    l->closing = true;
    for (int c : l->ready) ::close(c);
    l->ready.clear();
    l->waiters.close_all();
    if (l->armed) {
      // The final CQE (without F_MORE) still refers to the listener: keep it alive
      // until then.
      closing_.push_back(l);
      if (io_uring_sqe* sqe = get_sqe()) {
        io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(l.get()) | listener_bit, 0);
        io_uring_sqe_set_data64(sqe, tag_ignore);
      }
    }
  }

  // Cancels a parked fiber's operation; the fiber wakes when its CQE arrives.
  void cancel(uring_op* op) noexcept {
    op->cancelled = true;
    send_cancel(op);
  }

  void expire(uring_op* op) noexcept {
    op->timed_out = true;
    send_cancel(op);
  }

  // A watch's deadline passed: cancel its poll; the handler runs when the poll's CQE
  // arrives (-ECANCELED, or its events if they won the race).
  void expire(input_watch& w) noexcept {
    w.cancel_sent = true;
    if (io_uring_sqe* sqe = get_sqe()) {
      io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(&w) | watch_bit, 0);
      io_uring_sqe_set_data64(sqe, tag_ignore);
    }
  }

 private:
  void send_cancel(uring_op* op) noexcept {
    if (op->done || op->cancel_sent) return;
    op->cancel_sent = true;
    if (io_uring_sqe* sqe = get_sqe()) {
      io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(op), 0);
      io_uring_sqe_set_data64(sqe, tag_ignore);
    }
  }

  // A free submission slot. When the queue is full it is flushed to the kernel (and
  // completions reaped if the kernel pushes back), so no submission is ever dropped.
  io_uring_sqe* get_sqe(unsigned needed = 1) noexcept {
    while (io_uring_sq_space_left(&ring_) < needed) {
      int r = io_uring_submit(&ring_);
      if (r == -EBUSY || r == -EAGAIN) {
        io_uring_get_events(&ring_);
        reap();
      } else if (r < 0 && r != -EINTR) {
        log::error("io_uring_submit failed: ", std::strerror(-r));
        return nullptr;
      }
    }
    return io_uring_get_sqe(&ring_);
  }

  template <class Prep>
  result<int> submit(deadline d, Prep prep, std::uint32_t* flags_out = nullptr) {
    fiber_context* self = sched_.current();
    if (self->cancellation_pending()) throw cancelled_error();
    uring_op op;
    op.backend = this;
    op.fiber = self;
    io_uring_sqe* sqe = get_sqe();
    if (!sqe) return fail(std::make_error_code(std::errc::resource_unavailable_try_again));
    prep(sqe);
    io_uring_sqe_set_data(sqe, &op);
    if (d != no_deadline) {
      op.timer.when = d;
      op.timer.data = &op;
      op.timer.fire = [](timer_entry* e) {
        auto* o = static_cast<uring_op*>(e->data);
        o->backend->expire(o);
      };
      timers_.add(&op.timer);
    }
    while (!op.done) sched_.park(&op);
    if (op.timer.armed()) timers_.remove(&op.timer);
    if (flags_out) *flags_out = op.flags;
    if (op.res >= 0) return op.res;
    if (op.res == -ECANCELED || (op.res == -EINTR && op.cancel_sent)) {
      if (op.cancelled) throw cancelled_error();
      return fail(op.timed_out ? make_error_code(errc::timed_out) : make_error_code(errc::closed));
    }
    return fail(errno_code(op.res));
  }

  template <class T>
  static result<std::size_t> sized(result<T> r) {
    if (!r) return fail(r.error());
    return static_cast<std::size_t>(*r);
  }

  std::shared_ptr<listener> listener_for(int fd) {
    auto& l = listeners_[fd];
    if (!l) {
      l = std::make_shared<listener>();
      l->fd = fd;
    }
    return l;
  }

  void arm_accept(listener& l) {
    io_uring_sqe* sqe = get_sqe();
    if (!sqe) return;
    io_uring_prep_multishot_accept(sqe, l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(&l) | listener_bit);
    l.armed = true;
  }

  void arm_wake_read() {
    io_uring_sqe* sqe = get_sqe();
    if (!sqe) return;
    io_uring_prep_read(sqe, wake_fd_, &wake_value_, sizeof wake_value_, 0);
    io_uring_sqe_set_data64(sqe, tag_wake_read);
  }

  void send_msg_ring(int target_ring_fd) noexcept {
    io_uring_sqe* sqe = get_sqe();
    if (!sqe) return;
    io_uring_prep_msg_ring(sqe, target_ring_fd, 0, tag_msg_wake, 0);
    io_uring_sqe_set_data64(sqe, tag_ignore);
    sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
    // The target is asleep: hand the wake-up to the kernel now rather than at the end of
    // this shard's loop turn. This is the one system call a cross-core wake costs.
    io_uring_submit(&ring_);
  }

  void setup_buffer_ring(unsigned count, std::size_t size) {
    buf_ring_bytes_ = count * sizeof(io_uring_buf);
    void* mem = ::mmap(nullptr, buf_ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) return;
    buf_ring_ = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(buf_ring_);
    reg.ring_entries = count;
    reg.bgid = 0;
    if (int r = io_uring_register_buf_ring(&ring_, &reg, 0); r < 0) {
      // Provided-buffer rings arrived in 5.19; without them receives use the caller's memory.
      log::info("io_uring provided-buffer rings unavailable (", std::strerror(-r), ")");
      ::munmap(buf_ring_, buf_ring_bytes_);
      buf_ring_ = nullptr;
      return;
    }
    buf_count_ = count;
    buf_size_ = size;
    // Page-aligned, so release_idle_memory() can give the pages back.
    buf_mem_bytes_ = std::size_t{count} * size;
    void* pool = ::mmap(nullptr, buf_mem_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (pool == MAP_FAILED) {
      io_uring_unregister_buf_ring(&ring_, 0);
      ::munmap(buf_ring_, buf_ring_bytes_);
      buf_ring_ = nullptr;
      return;
    }
    buf_mem_ = static_cast<std::byte*>(pool);
    io_uring_buf_ring_init(buf_ring_);
    int mask = io_uring_buf_ring_mask(count);
    for (unsigned i = 0; i < count; ++i)
      io_uring_buf_ring_add(buf_ring_, buf_mem_ + std::size_t{i} * size, static_cast<unsigned>(size),
                            static_cast<unsigned short>(i), mask, static_cast<int>(i));
    io_uring_buf_ring_advance(buf_ring_, static_cast<int>(count));
  }

  // Each CQE is consumed before it is handled: handle() may re-enter reap() (re-arming
  // the wake read can need get_sqe() to flush a full queue), and a CQE still in the
  // ring would then be handled twice (a multishot accept would yield the same fd twice).
  // Since 6.13 an io_uring_enter runs at most 20 deferred task-work items (commit
  // f46b9cdb, IO_LOCAL_TW_DEFAULT_MAX) and leaves IORING_SQ_TASKRUN raised for the rest;
  // io_uring_peek_cqe enters the kernel again whenever the ring is empty and that flag is
  // up, so this loop still takes every completion that has arrived, in one loop turn.
  void reap() {
    io_uring_cqe* cqe;
    while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
      std::uint64_t data = cqe->user_data;
      int res = cqe->res;
      std::uint32_t flags = cqe->flags;
      io_uring_cqe_seen(&ring_, cqe);
      handle(data, res, flags);
    }
  }

  void handle(std::uint64_t data, int res, std::uint32_t flags) {
    if (data == tag_ignore || data == tag_msg_wake) return;
    if (data == tag_wake_read) {
      arm_wake_read();
      return;
    }
    if (data & listener_bit) {
      on_accept(*reinterpret_cast<listener*>(data & ~listener_bit), res, flags);
      return;
    }
    if (data & watch_bit) {
      if (tearing_down_) return;  // its owner is gone
      auto* w = reinterpret_cast<input_watch*>(data & ~watch_bit);
      if (w->timer.armed()) timers_.remove(&w->timer);
      // Any other result (events, or an error such as EBADF) is for a read to report.
      w->fire(res == -ECANCELED && w->cancel_sent ? input_watch::event::timed_out : input_watch::event::input);
      return;
    }
    auto* op = reinterpret_cast<uring_op*>(data);
    if (flags & IORING_CQE_F_BUFFER) ++buffers_held_;  // until its fiber copies it out
    op->res = res;
    op->flags = flags;
    op->done = true;
    sched_.make_ready(op->fiber);
  }

  void on_accept(listener& l, int res, std::uint32_t flags) {
    if (!(flags & IORING_CQE_F_MORE)) l.armed = false;
    if (l.closing) {
      if (res >= 0) ::close(res);
      if (!l.armed)
        std::erase_if(closing_, [&](const std::shared_ptr<listener>& p) { return p.get() == &l; });
      return;
    }
    if (res >= 0)
      l.ready.push_back(res);
    else if (res != -ECANCELED)
      l.error = res;  // e.g. EMFILE: reported to one accept() call; the next re-arms
    l.waiters.wake_one();
  }

  scheduler& sched_;
  timer_heap& timers_;
  io_uring ring_{};
  unsigned features_ = 0;
  bool flag_tells_task_work_ = false;
  bool tearing_down_ = false;
  int wake_fd_ = -1;
  std::uint64_t wake_value_ = 0;
  io_uring_buf_ring* buf_ring_ = nullptr;
  std::size_t buf_ring_bytes_ = 0;
  unsigned buf_count_ = 0;
  std::size_t buf_size_ = 0;
  std::size_t buf_mem_bytes_ = 0;
  std::byte* buf_mem_ = nullptr;
  unsigned buffers_held_ = 0;  // provided buffers with data a fiber has yet to copy out
  std::unordered_map<int, std::shared_ptr<listener>> listeners_;
  std::vector<std::shared_ptr<listener>> closing_;
  pipe_pool pipes_;
};

void uring_op::on_cancel(fiber_context&) noexcept { backend->cancel(this); }

}  // namespace

std::unique_ptr<backend> make_uring_backend(const uring_params& p, scheduler& s, timer_heap& t) {
  return std::make_unique<uring_backend>(p, s, t);
}

std::error_code errno_code(int negative_errno) noexcept {
  return {-negative_errno, std::generic_category()};
}

}  // namespace dusty::detail
