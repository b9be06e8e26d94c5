#pragma once
// socket_address: an IPv4, IPv6 or Unix-socket address, as the socket system calls
// take it. A plain value (no heap, no system calls), usable on any thread.
//
//   auto a = net::socket_address::parse("127.0.0.1:8080");   // result<socket_address>
//   auto b = net::socket_address::parse("[::1]:0");
//   auto c = net::socket_address::parse("unix:/run/app.sock");
//   auto d = net::socket_address::parse("unix:@app");         // Linux abstract namespace
//
// Only numeric addresses are parsed here; turning host names into addresses is the
// job of the client's resolver, which never blocks a shard.
#include <dusty/core/result.hpp>

#include <sys/socket.h>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace dusty::net {

class socket_address {
 public:
  /// An empty address: family() is AF_UNSPEC and size() is 0.
  socket_address() noexcept;
  /// Copies what a system call (accept, getsockname, getpeername) filled in. A length
  /// larger than sockaddr_storage is clamped.
  socket_address(const sockaddr* addr, socklen_t len) noexcept;

  /// Parses "a.b.c.d:port", "[ipv6]:port" (with an optional numeric "%scope" inside the
  /// brackets), "unix:/path" and "unix:@abstract-name". Errors (net::errc):
  /// invalid_address, missing_port, invalid_port, path_too_long.
  static result<socket_address> parse(std::string_view text);

  /// 127.0.0.1:port and [::1]:port.
  static socket_address ipv4_loopback(std::uint16_t port = 0) noexcept;
  static socket_address ipv6_loopback(std::uint16_t port = 0) noexcept;
  /// 0.0.0.0:port and [::]:port: every local address, for listening.
  static socket_address ipv4_any(std::uint16_t port = 0) noexcept;
  static socket_address ipv6_any(std::uint16_t port = 0) noexcept;
  /// A Unix socket: a file system path, or an abstract name when it starts with '@'.
  /// Errors: invalid_address (empty), path_too_long.
  static result<socket_address> unix_socket(std::string_view path);

  /// AF_INET, AF_INET6, AF_UNIX or AF_UNSPEC.
  int family() const noexcept;
  bool is_ip() const noexcept { return family() == AF_INET || family() == AF_INET6; }
  bool is_unix() const noexcept { return family() == AF_UNIX; }

  /// The port in host byte order; 0 for Unix sockets and the empty address.
  std::uint16_t port() const noexcept;
  /// A copy with another port (IP addresses only; others are returned unchanged).
  socket_address with_port(std::uint16_t port) const noexcept;

  /// For Unix sockets: the path, or '@' and the name for an abstract socket; an unnamed
  /// socket (a connecting client's end) gives "". Empty for IP addresses.
  std::string unix_path() const;

  /// The form parse() reads: "127.0.0.1:8080", "[::1]:0", "unix:/path", "unix:@name";
  /// an unnamed Unix socket is "unix:" and the empty address "unspecified".
  std::string to_string() const;

  /// For the socket system calls.
  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t size() const noexcept { return size_; }

  /// Equal when the same bytes would be passed to the kernel. The order is total but
  /// arbitrary (good for sorted containers, not for display).
  friend bool operator==(const socket_address& a, const socket_address& b) noexcept;
  friend std::strong_ordering operator<=>(const socket_address& a, const socket_address& b) noexcept;

 private:
  sockaddr_storage storage_;
  socklen_t size_ = 0;
};

/// "host:port", with an IPv6 literal in brackets ("[::1]:443"): the authority form that
/// socket_address::parse() reads and URLs and logs show. A bracketed host stays as it is.
std::string host_port(std::string_view host, std::uint16_t port);

}  // namespace dusty::net

template <>
struct std::hash<dusty::net::socket_address> {
  std::size_t operator()(const dusty::net::socket_address& a) const noexcept;
};
