#pragma once
// The reactor's interface, implemented once on io_uring (uring_backend.cpp) and once on
// epoll (epoll_backend.cpp). A shard owns one backend; every call but wake() is made on
// the shard's own thread, the I/O ones from a fiber that they suspend.
#include <dusty/core/input_watch.hpp>
#include <dusty/core/reactor.hpp>

#include <dusty/core/detail/timer_heap.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <memory>
#include <span>

namespace dusty::detail {

class scheduler;

class backend {
 public:
  virtual ~backend() = default;
  virtual backend_kind kind() const noexcept = 0;

  /// Submits what is queued, waits at most `timeout` (negative: no limit, zero: do not
  /// block) for completions, and makes ready the fibers whose operations finished.
  virtual void poll(clock::duration timeout) = 0;

  /// Interrupts a blocking poll() of this backend. Thread-safe. `from` is the calling
  /// shard's backend, if any: io_uring uses it to send an IORING_OP_MSG_RING, not a syscall.
  virtual void wake(backend* from) noexcept = 0;

  virtual result<int> accept(int fd, sockaddr* addr, socklen_t* len, deadline d) = 0;
  virtual result<void> connect(int fd, const sockaddr* addr, socklen_t len, deadline d) = 0;
  virtual result<std::size_t> recv(int fd, std::span<std::byte> buf, deadline d) = 0;
  virtual result<std::size_t> recv_lazy(int fd, std::size_t max, buffer_source source,
                                        deadline d) = 0;
  virtual result<std::size_t> send(int fd, std::span<const std::byte> buf, deadline d) = 0;
  virtual result<std::size_t> sendv(int fd, std::span<const iovec> bufs, deadline d) = 0;
  virtual result<std::size_t> read(int fd, std::span<std::byte> buf, deadline d) = 0;
  virtual result<std::size_t> write(int fd, std::span<const std::byte> buf, deadline d) = 0;
  virtual result<std::size_t> read_at(int fd, std::span<std::byte> buf, std::uint64_t offset, deadline d) = 0;
  virtual result<std::size_t> send_file(int sock_fd, int file_fd, std::uint64_t offset, std::size_t count,
                                        deadline d) = 0;
  /// Arms `w` (its fd set) for one input event or its deadline (see input_watch).
  /// Throws std::system_error when the kernel refuses.
  virtual void watch_input(input_watch& w, deadline d) = 0;
  /// Gives the kernel back memory the backend keeps for busy times (io_uring's provided
  /// receive buffers), if none of it holds data now. For idle moments; never suspends.
  virtual void release_idle_memory() noexcept {}
  /// Drops the reactor's state for `fd` (pending multishot accepts, epoll interest)
  /// before the caller closes it.
  virtual void forget(int fd) noexcept = 0;
};

/// Sizes for the io_uring backend (from runtime_config::io_uring).
struct uring_params {
  unsigned entries;
  unsigned recv_buffers;
  std::size_t recv_buffer_size;
};

/// Throws std::system_error when io_uring cannot be set up here (old kernel,
/// io_uring_disabled, a seccomp filter).
std::unique_ptr<backend> make_uring_backend(const uring_params& p, scheduler& s, timer_heap& t);
std::unique_ptr<backend> make_epoll_backend(scheduler& s, timer_heap& t);

/// Converts a negative errno (io_uring's `res`, or -errno) to an error code: the one
/// place where the kernel's numbers become dusty's errors.
std::error_code errno_code(int negative_errno) noexcept;

}  // namespace dusty::detail
