#pragma once
// listener: a listening TCP or Unix socket that fibers accept connections from.
//
//   auto l = net::listen(*net::socket_address::parse("0.0.0.0:8080"));
//   if (!l) throw net::error(l.error(), "listen on 0.0.0.0:8080");
//   for (;;) {
//     auto c = l->accept();
//     if (!c) { ...; continue; }             // e.g. EMFILE: back off, then go on
//     dusty::spawn([c = std::move(*c)]() mutable { serve(c); }).detach();
//   }
//
// With listen_options::reuse_port (the default) every shard can own a listener on the
// same TCP port and the kernel spreads incoming connections among them: the shape of a
// dusty server. A listener belongs to the shard that created it; call its members on
// that shard's thread.
#include <dusty/net/address.hpp>
#include <dusty/net/connection.hpp>

#include <dusty/core/reactor.hpp>
#include <dusty/core/result.hpp>

#include <sys/types.h>

#include <utility>

namespace dusty::net {

struct listen_options {
  /// Connections the kernel queues before accept() takes them; the kernel caps it at
  /// net.core.somaxconn. Default: 4096.
  int backlog = 4096;
  /// SO_REUSEPORT: listeners of the same user may share the TCP port, and connections
  /// are spread among them (one per shard). Note that another process of the same user
  /// that also sets it joins the group instead of failing with EADDRINUSE. Ignored for
  /// Unix sockets. Default: true.
  bool reuse_port = true;
  /// SO_REUSEADDR: bind even while connections of an earlier server on the port linger
  /// in TIME_WAIT. Ignored for Unix sockets. Default: true.
  bool reuse_address = true;
  /// IPV6_V6ONLY for IPv6 addresses: when false, a listener on [::] also accepts IPv4
  /// connections (as ::ffff:a.b.c.d). Default: false.
  bool v6_only = false;
};

class listener {
 public:
  /// A closed listener.
  listener() noexcept = default;
  listener(listener&& other) noexcept;
  listener& operator=(listener&& other) noexcept;
  /// Closes the listener (see close()).
  ~listener();

  /// Waits for the next connection, at most until `d`. The new connection belongs to
  /// the calling shard. Errors: errc::timed_out; errc::closed when the listener is (or
  /// gets) closed; accept(2) codes such as EMFILE/ENFILE (out of descriptors: the usual
  /// answer is to back off briefly) and ECONNABORTED. Throws cancelled_error when the
  /// calling fiber is cancelled. Call from a fiber; suspends. Several fibers may wait.
  result<connection> accept(deadline d = no_deadline);

  /// The address the listener is bound to, with the real port when port 0 was asked.
  const socket_address& local_address() const noexcept { return address_; }

  /// Stops listening and releases the port. Fibers waiting in accept() wake with
  /// errc::closed. A Unix socket file this listener created is removed, unless it has
  /// been replaced since. Idempotent; never suspends.
  void close() noexcept;

  bool is_open() const noexcept { return fd_ >= 0; }
  /// The listening socket; -1 when closed. Still owned here.
  int fd() const noexcept { return fd_; }

 private:
  friend result<listener> listen(const socket_address&, const listen_options&);

  int fd_ = -1;
  socket_address address_;
  // The socket file a Unix listener created, to remove exactly that file on close.
  dev_t file_dev_ = 0;
  ino_t file_ino_ = 0;
};

/// Creates a listening socket bound to `address`. For a Unix socket path, a leftover
/// socket file that nothing listens on any more is removed first; a live socket or any
/// other kind of file there gives EADDRINUSE. Errors: the socket(2)/bind(2)/listen(2)
/// codes (EADDRINUSE, EACCES, EADDRNOTAVAIL, ...). Never suspends; call on the shard
/// that will accept.
result<listener> listen(const socket_address& address, const listen_options& options = {});

}  // namespace dusty::net
