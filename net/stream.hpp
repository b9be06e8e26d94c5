#pragma once
// stream: a bidirectional byte stream that a fiber reads and writes. connection (a TCP
// or Unix socket) implements it, and so will TLS, so that buffered_stream and the HTTP
// layer above it run unchanged over either.
//
// Naming follows Photon: a `*_some` call may transfer less than asked; the plain verb
// (read, write, writev) transfers everything or fails.
//
// All calls are made from a fiber of the shard that owns the stream, and may suspend
// it (never the thread). Each takes an absolute deadline: when it passes the call
// fails with errc::timed_out. A call whose fiber is cancelled (or whose deadline scope
// expires) throws cancelled_error; bytes already received are never lost, the next
// call sees them.
//
// Errors: errc::eof when the peer has closed its sending side, errc::timed_out,
// errc::closed when the stream was closed under the call, and operating-system codes
// (ECONNRESET, EPIPE, ...). After any error but timed_out, treat the stream as broken.
#include <dusty/net/address.hpp>

#include <dusty/core/reactor.hpp>
#include <dusty/core/result.hpp>

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace dusty::net {

class stream {
 public:
  virtual ~stream() = default;

  /// Reads between 1 and buf.size() bytes. A peer that has closed its side gives
  /// errc::eof (never a count of 0); an empty `buf` returns 0 at once.
  result<std::size_t> read_some(std::span<std::byte> buf, deadline d = no_deadline) {
    return do_read_some(buf, d);
  }

  /// Like read_some, but takes its memory from `source` only once data is there, so a
  /// fiber parked here holds no receive buffer (see reactor::recv_lazy). Reads at most
  /// `max` bytes into the front of the span `source` returns (which must hold `max`).
  /// `source` is not called when the result is an error, except after a spurious wakeup
  /// (the memory then stays with the caller unused).
  result<std::size_t> read_lazy(std::size_t max, buffer_source source, deadline d = no_deadline) {
    return do_read_lazy(max, source, d);
  }

  /// Reads exactly buf.size() bytes. errc::eof when the peer closes first; the bytes
  /// read by then are in `buf`, but how many is not reported.
  result<void> read(std::span<std::byte> buf, deadline d = no_deadline);

  /// Writes all of `buf`.
  result<void> write(std::span<const std::byte> buf, deadline d = no_deadline) { return do_write(buf, d); }

  /// Writes all of the gathered buffers, in order, without copying them.
  result<void> writev(std::span<const iovec> bufs, deadline d = no_deadline) { return do_writev(bufs, d); }

  /// Sends `count` bytes of the open regular file `file_fd` from `offset`: all of them, or
  /// an error. net::errc::file_truncated when the file ends first (it shrank while being
  /// sent): what was promised cannot be delivered, so close the stream. A connection
  /// sends without copying the bytes through user memory (reactor::send_file); other
  /// streams (TLS without kTLS, test streams) read the file in 16 KiB pieces with
  /// reactor::read_at and write them.
  result<void> send_file(int file_fd, std::uint64_t offset, std::uint64_t count, deadline d = no_deadline) {
    return do_send_file(file_fd, offset, count, d);
  }

  /// Ends the sending side: the peer reads eof once it has everything written so far.
  /// Reading remains possible. Never suspends.
  result<void> shutdown_write() { return do_shutdown_write(); }

  /// Releases the stream at once. No fiber may be waiting in a call on it. Idempotent;
  /// never suspends.
  void close() noexcept { do_close(); }

  /// The peer's address (for TCP, its IP and port). A stream layered on another (TLS)
  /// answers for the socket underneath. Default: std::errc::not_supported, for streams
  /// that have no peer (in-memory test streams). Never suspends.
  result<socket_address> remote_address() const { return do_remote_address(); }
  /// The local end; for a listener's connection, the address and port it accepted on.
  result<socket_address> local_address() const { return do_local_address(); }

  /// Whether the stream is known to be unusable for a new exchange without waiting: the
  /// peer closed or reset it, or sent bytes nobody asked for. A pool asks before reusing
  /// an idle connection. Never suspends; default: false (nothing known).
  bool peer_closed() const noexcept { return do_peer_closed(); }

  /// Readies an idle stream to wait for its next input with no fiber (see input_watch):
  /// frees the buffers it can, and returns the socket whose readability means input for
  /// it. -1 when it cannot wait that way: it holds input already received (read that
  /// first), has output it has not sent, or has no socket (in-memory test streams, the
  /// default). Never suspends; call with no fiber in a call on the stream.
  int idle_socket() noexcept { return do_idle_socket(); }

 protected:
  stream() = default;
  stream(const stream&) = default;
  stream& operator=(const stream&) = default;

  virtual result<std::size_t> do_read_some(std::span<std::byte> buf, deadline d) = 0;
  /// Default: takes the buffer at once and calls do_read_some.
  virtual result<std::size_t> do_read_lazy(std::size_t max, buffer_source source, deadline d);
  virtual result<void> do_write(std::span<const std::byte> buf, deadline d) = 0;
  virtual result<void> do_writev(std::span<const iovec> bufs, deadline d) = 0;
  virtual result<void> do_send_file(int file_fd, std::uint64_t offset, std::uint64_t count, deadline d);
  virtual result<void> do_shutdown_write() = 0;
  virtual void do_close() noexcept = 0;
  virtual result<socket_address> do_remote_address() const;
  virtual result<socket_address> do_local_address() const;
  virtual bool do_peer_closed() const noexcept { return false; }
  virtual int do_idle_socket() noexcept { return -1; }
};

}  // namespace dusty::net
