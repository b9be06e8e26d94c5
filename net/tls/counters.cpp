#include <dusty/net/tls/counters.hpp>

#include "net/tls/detail/callbacks.hpp"

#include <dusty/core/log.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <mutex>
#include <string>

namespace dusty::net::tls {

counters& shard_counters() noexcept {
  thread_local counters c;
  return c;
}

namespace {

bool detect_ktls() noexcept {
  try {
    // Lists the ULPs registered now (Linux 4.13+); a module that is not loaded yet but
    // could be autoloaded is missing here, hence the setsockopt below.
    std::ifstream f("/proc/sys/net/ipv4/tcp_available_ulp");
    std::string word;
    while (f >> word)
      if (word == "tls") return true;
  } catch (...) {
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // On an unconnected socket tls_init refuses with ENOTCONN when the module exists;
  // ENOENT means the kernel has no "tls" ULP at all.
  int r = ::setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls");
  int err = errno;
  ::close(fd);
  return r == 0 || err != ENOENT;
}

}  // namespace

bool ktls_available() noexcept {
  static const bool available = detect_ktls();
  return available;
}

namespace detail {

void note_tls_path_once() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    if (ktls_available())
      log::info("tls: the kernel has kTLS, but dusty drives OpenSSL through its own BIO on the reactor, "
                "which kTLS cannot use: userspace TLS");
    else
      log::info("tls: the kernel has no kTLS (no \"tls\" TCP ULP): userspace TLS");
  });
}

}  // namespace detail
}  // namespace dusty::net::tls
