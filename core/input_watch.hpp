#pragma once
// input_watch: waiting for input on a socket with no fiber waiting. A connection with
// nothing to do (a keep-alive connection between requests) need not keep a fiber and its
// stack: its owner arms a watch and lets the fiber end; when bytes (or EOF, or an error)
// arrive, or the deadline passes, the watch calls its handler on the shard's loop, and
// the owner gives the connection a fiber again, or closes it.
//
// io_uring: one IORING_OP_POLL_ADD (POLLIN | POLLRDHUP) per arm, which the kernel holds
// outside the process's memory; the deadline is a timer on the shard's heap that cancels
// the poll. epoll: the descriptor's edge-triggered registration, re-armed with
// EPOLL_CTL_MOD (which reports input that came before the arm).
//
//   input_watch w([](void* owner, input_watch::event e) noexcept { ... }, this);
//   w.arm(fd, after(75s));
#include <dusty/core/reactor.hpp>

#include <dusty/core/detail/timer_heap.hpp>

namespace dusty {

class input_watch {
 public:
  enum class event : unsigned char {
    input,      ///< Readable: bytes, EOF or an error are waiting; a read will tell which.
    timed_out,  ///< The deadline passed first.
  };
  /// Called once per arm(), on the shard's thread outside any fiber (or, rarely, inside
  /// whichever fiber is submitting I/O at the time): it must not suspend; it may spawn
  /// fibers, arm the watch again, or destroy it.
  using handler = void (*)(void* owner, event e) noexcept;

  input_watch(handler h, void* owner) noexcept : handler_(h), owner_(owner) {}
  input_watch(const input_watch&) = delete;
  input_watch& operator=(const input_watch&) = delete;
  /// An armed watch must not be destroyed: the kernel may still refer to it. To end one
  /// early, shut the socket down (shutdown(2)): that is input, and the handler runs.
  ~input_watch() = default;

  /// Watches `fd` (a socket of the calling shard) until it has input or `d` passes, then
  /// calls the handler once. The socket must stay open while the watch is armed. Never
  /// suspends. Call on the shard's thread; not while armed.
  void arm(int fd, deadline d);
  bool armed() const noexcept { return armed_; }

  // ---- for the reactor's backends ----
  /// Disarms and calls the handler (which may destroy *this: touch nothing after).
  void fire(event e) noexcept {
    armed_ = false;
    handler_(owner_, e);
  }
  detail::timer_entry timer;  ///< The deadline, when it has one.
  void* backend = nullptr;    ///< The backend it is armed on.
  int fd = -1;
  bool cancel_sent = false;   ///< io_uring: the poll is being cancelled (deadline passed).

 private:
  handler handler_;
  void* owner_;
  bool armed_ = false;
};

}  // namespace dusty
