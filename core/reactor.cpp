#include <dusty/core/reactor.hpp>

#include <dusty/core/error.hpp>
#include <dusty/core/detail/shard.hpp>

#include <unistd.h>

namespace dusty::reactor {
namespace {

// The calling fiber's reactor; cancellation is checked before any work is attempted.
detail::backend& io() {
  auto& sh = detail::shard::in_fiber();
  if (sh.sched().current()->cancellation_pending()) throw cancelled_error();
  return sh.io();
}

}  // namespace

backend_kind backend() {
  auto* s = detail::shard::current();
  if (!s) throw std::system_error(make_error_code(errc::not_in_fiber), "reactor::backend outside the runtime");
  return s->io().kind();
}

result<int> accept(int fd, sockaddr* addr, socklen_t* len, deadline d) { return io().accept(fd, addr, len, d); }

result<void> connect(int fd, const sockaddr* addr, socklen_t len, deadline d) {
  return io().connect(fd, addr, len, d);
}

result<std::size_t> recv(int fd, std::span<std::byte> buf, deadline d) { return io().recv(fd, buf, d); }

result<std::size_t> recv_lazy(int fd, std::size_t max, buffer_source source, deadline d) {
  return io().recv_lazy(fd, max, source, d);
}

result<std::size_t> send(int fd, std::span<const std::byte> buf, deadline d) { return io().send(fd, buf, d); }

result<std::size_t> sendv(int fd, std::span<const iovec> bufs, deadline d) { return io().sendv(fd, bufs, d); }

result<std::size_t> read(int fd, std::span<std::byte> buf, deadline d) { return io().read(fd, buf, d); }

result<std::size_t> write(int fd, std::span<const std::byte> buf, deadline d) { return io().write(fd, buf, d); }

result<std::size_t> read_at(int fd, std::span<std::byte> buf, std::uint64_t offset, deadline d) {
  return io().read_at(fd, buf, offset, d);
}

result<std::size_t> send_file(int sock_fd, int file_fd, std::uint64_t offset, std::size_t count, deadline d) {
  return io().send_file(sock_fd, file_fd, offset, count, d);
}

void close(int fd) noexcept {
  if (fd < 0) return;
  if (auto* s = detail::shard::current()) s->io().forget(fd);
  ::close(fd);
}

}  // namespace dusty::reactor
