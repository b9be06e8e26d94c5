#pragma once
// The reactor: asynchronous system calls for fibers. Each shard runs one reactor, on
// io_uring where the kernel allows it and on epoll otherwise; both give the calls below
// the same meaning. These are the primitives dusty::net is built on; applications
// normally use net's listeners and streams instead.
//
// Every call here must be made from a fiber. A call that cannot complete at once
// suspends the fiber (never the thread). If the fiber is cancelled, or a deadline scope
// around it expires, while it waits, the kernel operation is cancelled and the call
// throws cancelled_error, unless the operation completed first: then its result is
// returned (no received byte is ever lost) and the next wait throws.
#include <dusty/core/result.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace dusty {

/// Which kernel interface a shard's reactor uses.
enum class backend_kind {
  automatic,  ///< io_uring if it can be set up, else epoll (logged once).
  io_uring,
  epoll,
};

std::string_view to_string(backend_kind k) noexcept;
/// Parses "auto", "io_uring" (or "uring") and "epoll".
std::optional<backend_kind> parse_backend_kind(std::string_view s) noexcept;

/// An absolute point on the steady clock by which an operation must complete.
using deadline = std::chrono::steady_clock::time_point;
/// The deadline that never passes.
inline constexpr deadline no_deadline = deadline::max();
/// A deadline `d` from now.
inline deadline after(std::chrono::steady_clock::duration d) {
  return std::chrono::steady_clock::now() + d;
}

/// Supplies the memory for reactor::recv_lazy at the moment data arrives.
struct buffer_source {
  std::span<std::byte> (*get)(void* ctx);  ///< Must return at least the `max` bytes asked.
  void* ctx;
  std::span<std::byte> operator()() const { return get(ctx); }
};

namespace reactor {

/// The backend of the calling shard's reactor.
backend_kind backend();

/// Accepts a connection on a listening socket; the new socket is non-blocking and
/// close-on-exec. io_uring keeps a multishot accept armed per listener.
result<int> accept(int listen_fd, sockaddr* addr = nullptr, socklen_t* len = nullptr,
                   deadline d = no_deadline);

/// Connects a non-blocking socket. Errors: the connect(2) errno, or errc::timed_out.
result<void> connect(int fd, const sockaddr* addr, socklen_t len, deadline d = no_deadline);

/// Receives at most buf.size() bytes; 0 means the peer closed. May return less than asked.
result<std::size_t> recv(int fd, std::span<std::byte> buf, deadline d = no_deadline);

/// Receives at most `max` bytes into memory obtained from `source` only once data has
/// arrived, so a connection parked here holds no receive buffer (io_uring: a provided-
/// buffer ring; epoll: readiness first). `source` is not called when 0 or an error is
/// returned, except on epoll's rare spurious wakeup, where the buffer stays with the caller.
result<std::size_t> recv_lazy(int fd, std::size_t max, buffer_source source,
                              deadline d = no_deadline);

/// Sends some of `buf` (MSG_NOSIGNAL); returns how much was sent.
result<std::size_t> send(int fd, std::span<const std::byte> buf, deadline d = no_deadline);

/// Sends some of the gathered buffers; returns how much was sent.
result<std::size_t> sendv(int fd, std::span<const iovec> bufs, deadline d = no_deadline);

/// read(2)/write(2) for descriptors that are not sockets (pipes, eventfd, signalfd).
result<std::size_t> read(int fd, std::span<std::byte> buf, deadline d = no_deadline);
result<std::size_t> write(int fd, std::span<const std::byte> buf, deadline d = no_deadline);

/// Reads at most buf.size() bytes of a file from `offset` (pread(2)); 0 at the end of
/// the file. io_uring reads in the kernel's workers when the page cache misses, so the
/// shard goes on running; epoll calls pread(2) and blocks the shard for that one read.
result<std::size_t> read_at(int fd, std::span<std::byte> buf, std::uint64_t offset,
                            deadline d = no_deadline);

/// Sends up to `count` bytes of the file `file_fd` from `offset` on the socket `sock_fd`
/// without copying them through user memory; returns how many were sent (0: the file
/// ends at `offset`). epoll: sendfile(2). io_uring has no sendfile opcode: the bytes go
/// file -> pipe by IORING_OP_SPLICE (in the kernel's workers, so a disk read never stalls
/// the shard), then pipe -> socket by a non-blocking splice(2), waiting for POLLOUT when
/// the socket is full; pipes come from a per-shard pool and go back empty.
result<std::size_t> send_file(int sock_fd, int file_fd, std::uint64_t offset, std::size_t count,
                              deadline d = no_deadline);

/// Forgets the descriptor in the reactor and closes it. Fibers still waiting on it must
/// have been cancelled first.
void close(int fd) noexcept;

}  // namespace reactor
}  // namespace dusty
