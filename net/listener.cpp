#include <dusty/net/listener.hpp>

#include <dusty/core/error.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace dusty::net {
namespace {

std::error_code os_error(int e) noexcept { return {e, std::generic_category()}; }

result<void> set_option(int fd, int level, int name, int value) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0) return fail(os_error(errno));
  return {};
}

// bind(2) fails with EADDRINUSE while a socket file exists at the path, even one left
// behind by a process that died. Remove it only when it is a socket that nothing
// listens on: a connect probe is refused. A live listener (or one with a full
// backlog, EAGAIN) keeps its file, and so does anything that is not a socket.
result<void> remove_stale_socket(const socket_address& address) {
  std::string path = address.unix_path();
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT ? result<void>{} : fail(os_error(errno));
  if (!S_ISSOCK(st.st_mode)) return fail(os_error(EADDRINUSE));
  int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe < 0) return fail(os_error(errno));
  int r = ::connect(probe, address.data(), address.size());
  int err = r == 0 ? 0 : errno;
  ::close(probe);
  if (r == 0 || err == EAGAIN) return fail(os_error(EADDRINUSE));
  if (err != ECONNREFUSED) return fail(os_error(err));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return fail(os_error(errno));
  return {};
}

}  // namespace

listener::listener(listener&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      address_(other.address_),
      file_dev_(std::exchange(other.file_dev_, 0)),
      file_ino_(std::exchange(other.file_ino_, 0)) {}

listener& listener::operator=(listener&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    address_ = other.address_;
    file_dev_ = std::exchange(other.file_dev_, 0);
    file_ino_ = std::exchange(other.file_ino_, 0);
  }
  return *this;
}

listener::~listener() { close(); }

result<connection> listener::accept(deadline d) {
  if (fd_ < 0) return fail(dusty::errc::closed);
  // Nothing of *this is touched after the wait: close() may run meanwhile, and the
  // owner may even destroy the listener once this fiber has been woken.
  auto fd = reactor::accept(fd_, nullptr, nullptr, d);
  if (!fd) return fail(fd.error());
  return connection(*fd);
}

void listener::close() noexcept {
  if (fd_ < 0) return;
  if (file_ino_ != 0) {
    std::string path = address_.unix_path();
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && st.st_dev == file_dev_ && st.st_ino == file_ino_)
      ::unlink(path.c_str());
    file_dev_ = 0;
    file_ino_ = 0;
  }
  // The reactor wakes fibers waiting in accept() with errc::closed before the close.
  reactor::close(std::exchange(fd_, -1));
}

result<listener> listen(const socket_address& address, const listen_options& options) {
  int fd = ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(os_error(errno));
  listener l;  // owns the socket from here on, so every failure below closes it
  l.fd_ = fd;
  l.address_ = address;
  std::string path = address.unix_path();
  bool socket_file = address.is_unix() && !path.starts_with('@');
  if (address.is_ip()) {
    if (options.reuse_address)
      if (auto r = set_option(fd, SOL_SOCKET, SO_REUSEADDR, 1); !r) return fail(r.error());
    if (options.reuse_port)
      if (auto r = set_option(fd, SOL_SOCKET, SO_REUSEPORT, 1); !r) return fail(r.error());
    if (address.family() == AF_INET6)
      if (auto r = set_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, options.v6_only ? 1 : 0); !r) return fail(r.error());
  } else if (socket_file) {
    if (auto r = remove_stale_socket(address); !r) return fail(r.error());
  }
  if (::bind(fd, address.data(), address.size()) != 0) return fail(os_error(errno));
  if (socket_file) {
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) {
      l.file_dev_ = st.st_dev;
      l.file_ino_ = st.st_ino;
    }
  }
  if (::listen(fd, options.backlog) != 0) return fail(os_error(errno));
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return fail(os_error(errno));
  // Keep the caller's spelling for Unix sockets: the kernel reports the path as given.
  if (address.is_ip()) l.address_ = socket_address(reinterpret_cast<sockaddr*>(&ss), len);
  return l;
}

}  // namespace dusty::net
