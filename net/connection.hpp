#pragma once
// connection: an owning, movable, connected stream socket (TCP over IPv4/IPv6, or a
// Unix socket), driven by the calling shard's reactor.
//
//   auto c = net::connect(*net::socket_address::parse("127.0.0.1:7000"), after(1s));
//   if (!c) throw net::error(c.error(), "connect to 127.0.0.1:7000");
//   c->write(std::as_bytes(std::span(hello)));
//
// A connection belongs to the shard that created it (by accept or connect): call every
// member on that shard's thread, from a fiber where the member may suspend. Reads and
// writes are the stream calls (see stream.hpp for their contract and errors); one
// fiber may read while another writes. To wake fibers blocked on the connection from
// elsewhere, cancel them, or call shutdown(shutdown_how::both): blocked reads then see
// errc::eof and blocked writes EPIPE. close() (and the destructor) require that no
// fiber waits on the connection.
#include <dusty/net/address.hpp>
#include <dusty/net/stream.hpp>

#include <dusty/core/reactor.hpp>
#include <dusty/core/result.hpp>

#include <optional>
#include <utility>

namespace dusty::net {

/// Which direction shutdown() ends.
enum class shutdown_how { read, write, both };

class connection final : public stream {
 public:
  /// A closed connection.
  connection() noexcept = default;
  /// Takes ownership of a connected socket. It must be non-blocking, as the sockets
  /// reactor::accept returns are; the epoll backend relies on it.
  explicit connection(int fd) noexcept : fd_(fd) {}
  connection(connection&& other) noexcept;
  connection& operator=(connection&& other) noexcept;
  /// Closes the socket (see close()).
  ~connection() override;

  bool is_open() const noexcept { return fd_ >= 0; }
  /// The socket, for options net does not wrap; -1 when closed. Still owned here.
  int fd() const noexcept { return fd_; }
  /// Gives up ownership: returns the socket (or -1) and leaves the connection closed.
  int release() noexcept { return std::exchange(fd_, -1); }

  /// shutdown(2): ends reading, writing or both. Never suspends.
  result<void> shutdown(shutdown_how how);

  // local_address() is getsockname (for TCP it shows the port the kernel chose);
  // remote_address() is getpeername on first use, then cached: ENOTCONN once the peer is
  // gone, if it was never asked before. peer_closed() peeks at the socket (MSG_PEEK).

  /// TCP_NODELAY: send small writes at once instead of waiting to coalesce them (Nagle).
  /// Not meaningful for Unix sockets (EOPNOTSUPP).
  result<void> set_nodelay(bool on);

 private:
  result<std::size_t> do_read_some(std::span<std::byte> buf, deadline d) override;
  result<std::size_t> do_read_lazy(std::size_t max, buffer_source source, deadline d) override;
  result<void> do_write(std::span<const std::byte> buf, deadline d) override;
  result<void> do_writev(std::span<const iovec> bufs, deadline d) override;
  result<void> do_send_file(int file_fd, std::uint64_t offset, std::uint64_t count, deadline d) override;
  result<void> do_shutdown_write() override;
  void do_close() noexcept override;
  result<socket_address> do_remote_address() const override;
  result<socket_address> do_local_address() const override;
  bool do_peer_closed() const noexcept override;
  int do_idle_socket() noexcept override { return fd_; }

  int fd_ = -1;
  mutable std::optional<socket_address> remote_;
};

/// Opens a socket of the address's family and connects it to `to`, waiting at most
/// until `d`. Errors: errc::timed_out, or the connect(2) code (ECONNREFUSED, ENOENT for a
/// missing Unix socket path, ENETUNREACH, ...). Throws cancelled_error when the calling
/// fiber is cancelled; the half-made socket is closed either way. Call from a fiber;
/// suspends. The connection belongs to the calling shard.
result<connection> connect(const socket_address& to, deadline d = no_deadline);

}  // namespace dusty::net
