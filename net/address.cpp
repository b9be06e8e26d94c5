#include <dusty/net/address.hpp>

#include <dusty/net/error.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstring>

namespace dusty::net {
namespace {

constexpr socklen_t unix_path_offset = offsetof(sockaddr_un, sun_path);
// sun_path holds 108 bytes; a file system path needs one of them for its NUL, and an
// abstract name one for its leading NUL.
constexpr std::size_t max_unix_name = sizeof(sockaddr_un{}.sun_path) - 1;

result<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 65535)
    return fail(errc::invalid_port);
  return static_cast<std::uint16_t>(value);
}

// inet_pton wants a NUL-terminated string.
bool to_c_string(std::string_view s, char (&out)[64]) {
  if (s.empty() || s.size() >= sizeof out) return false;
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  return true;
}

}  // namespace

socket_address::socket_address() noexcept {
  std::memset(&storage_, 0, sizeof storage_);
  storage_.ss_family = AF_UNSPEC;
}

socket_address::socket_address(const sockaddr* addr, socklen_t len) noexcept : socket_address() {
  size_ = std::min<socklen_t>(len, sizeof storage_);
  std::memcpy(&storage_, addr, size_);
}

result<socket_address> socket_address::parse(std::string_view text) {
  if (text.starts_with("unix:")) return unix_socket(text.substr(5));
  char host[64];
  socket_address a;
  std::string_view port_text;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos) return fail(errc::invalid_address);
    std::string_view inside = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return fail(errc::missing_port);
    if (rest[0] != ':') return fail(errc::invalid_address);
    port_text = rest.substr(1);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
    if (auto percent = inside.find('%'); percent != std::string_view::npos) {
      std::string_view scope = inside.substr(percent + 1);
      auto [end, ec] = std::from_chars(scope.data(), scope.data() + scope.size(), in6->sin6_scope_id);
      if (scope.empty() || ec != std::errc() || end != scope.data() + scope.size())
        return fail(errc::invalid_address);
      inside = inside.substr(0, percent);
    }
    if (!to_c_string(inside, host) || ::inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
      return fail(errc::invalid_address);
    in6->sin6_family = AF_INET6;
    a.size_ = sizeof(sockaddr_in6);
  } else {
    auto colon = text.rfind(':');
    std::string_view host_text = text.substr(0, colon);
    // A second colon means an IPv6 literal, which needs brackets to separate the port.
    if (colon != std::string_view::npos && text.find(':') != colon) return fail(errc::invalid_address);
    auto* in4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
    if (!to_c_string(host_text, host) || ::inet_pton(AF_INET, host, &in4->sin_addr) != 1)
      return fail(errc::invalid_address);
    if (colon == std::string_view::npos) return fail(errc::missing_port);
    port_text = text.substr(colon + 1);
    in4->sin_family = AF_INET;
    a.size_ = sizeof(sockaddr_in);
  }
  auto port = parse_port(port_text);
  if (!port) return fail(port.error());
  return a.with_port(*port);
}

socket_address socket_address::ipv4_loopback(std::uint16_t port) noexcept {
  socket_address a = ipv4_any(port);
  reinterpret_cast<sockaddr_in*>(&a.storage_)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

socket_address socket_address::ipv6_loopback(std::uint16_t port) noexcept {
  socket_address a = ipv6_any(port);
  reinterpret_cast<sockaddr_in6*>(&a.storage_)->sin6_addr = in6addr_loopback;
  return a;
}

socket_address socket_address::ipv4_any(std::uint16_t port) noexcept {
  socket_address a;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
  in4->sin_family = AF_INET;
  in4->sin_port = htons(port);
  a.size_ = sizeof(sockaddr_in);
  return a;
}

socket_address socket_address::ipv6_any(std::uint16_t port) noexcept {
  socket_address a;
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  a.size_ = sizeof(sockaddr_in6);
  return a;
}

result<socket_address> socket_address::unix_socket(std::string_view path) {
  bool abstract = path.starts_with('@');
  std::string_view name = abstract ? path.substr(1) : path;
  // An empty abstract name would ask the kernel to pick one (autobind): not an address.
  if (name.empty() || (!abstract && name.find('\0') != std::string_view::npos))
    return fail(errc::invalid_address);
  if (name.size() > max_unix_name) return fail(errc::path_too_long);
  socket_address a;
  auto* un = reinterpret_cast<sockaddr_un*>(&a.storage_);
  un->sun_family = AF_UNIX;
  // Abstract names are exactly as long as the length says; paths end with a NUL.
  std::memcpy(un->sun_path + (abstract ? 1 : 0), name.data(), name.size());
  a.size_ = static_cast<socklen_t>(unix_path_offset + 1 + name.size());
  return a;
}

int socket_address::family() const noexcept {
  return size_ >= sizeof(sa_family_t) ? storage_.ss_family : AF_UNSPEC;
}

std::uint16_t socket_address::port() const noexcept {
  switch (family()) {
    case AF_INET: return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    case AF_INET6: return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    default: return 0;
  }
}

socket_address socket_address::with_port(std::uint16_t port) const noexcept {
  socket_address a = *this;
  if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&a.storage_)->sin_port = htons(port);
  if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&a.storage_)->sin6_port = htons(port);
  return a;
}

std::string socket_address::unix_path() const {
  if (family() != AF_UNIX || size_ <= unix_path_offset) return {};
  const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
  std::size_t len = size_ - unix_path_offset;
  if (un->sun_path[0] == '\0') return "@" + std::string(un->sun_path + 1, len - 1);
  return std::string(un->sun_path, ::strnlen(un->sun_path, len));
}

std::string socket_address::to_string() const {
  char text[INET6_ADDRSTRLEN];
  switch (family()) {
    case AF_INET: {
      ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, text, sizeof text);
      return std::string(text) + ":" + std::to_string(port());
    }
    case AF_INET6: {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
      ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
      std::string s = "[" + std::string(text);
      if (in6->sin6_scope_id) s += "%" + std::to_string(in6->sin6_scope_id);
      return s + "]:" + std::to_string(port());
    }
    case AF_UNIX: return "unix:" + unix_path();
    default: return "unspecified";
  }
}

bool operator==(const socket_address& a, const socket_address& b) noexcept {
  return a.size_ == b.size_ && std::memcmp(&a.storage_, &b.storage_, a.size_) == 0;
}

std::strong_ordering operator<=>(const socket_address& a, const socket_address& b) noexcept {
  if (auto c = a.size_ <=> b.size_; c != 0) return c;
  return std::memcmp(&a.storage_, &b.storage_, a.size_) <=> 0;
}

std::string host_port(std::string_view host, std::uint16_t port) {
  bool bare_ipv6 = host.find(':') != std::string_view::npos && !host.starts_with('[');
  std::string out;
  out.reserve(host.size() + 8);
  if (bare_ipv6) out += '[';
  out += host;
  if (bare_ipv6) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

}  // namespace dusty::net

std::size_t std::hash<dusty::net::socket_address>::operator()(const dusty::net::socket_address& a) const noexcept {
  // FNV-1a over the bytes the kernel would see, the same bytes operator== compares.
  std::uint64_t h = 14695981039346656037ull;
  const auto* p = reinterpret_cast<const unsigned char*>(a.data());
  for (socklen_t i = 0; i < a.size(); ++i) h = (h ^ p[i]) * 1099511628211ull;
  return static_cast<std::size_t>(h);
}
