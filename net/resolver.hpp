#pragma once
// resolver: host names to socket addresses without ever blocking a shard.
//
//   auto addrs = net::resolver::local().resolve("example.com", 80, after(5s));
//   if (!addrs) throw net::error(addrs.error(), "resolve example.com");
//   for (auto& a : *addrs) ...                     // try in order
//
// Order of lookup: IP literals ("127.0.0.1", "::1", with or without brackets) are
// returned as they are; then the hosts file (/etc/hosts, re-read when it changes);
// "localhost" and names under ".localhost" always mean loopback (RFC 6761); then DNS:
// A and AAAA queries sent together over UDP to the name servers of /etc/resolv.conf
// (in order, each tried `attempts` times), from a fiber on the calling shard's reactor,
// with TCP retry for truncated answers. CNAME chains in an answer are followed.
//
// Every shard has its own resolver and its own cache (share-nothing): answers are kept
// for their TTL (clamped to [min_ttl, max_ttl]), names that do not exist for
// negative_ttl. Concurrent lookups of the same name on a shard share one query.
//
// Errors: net::errc::invalid_host_name, net::errc::host_not_found (NXDOMAIN, or no
// address of any family), net::errc::dns_failure (no server answered usably),
// errc::timed_out (the caller's deadline). Cancellation throws cancelled_error.
#include <dusty/net/address.hpp>

#include <dusty/core/reactor.hpp>
#include <dusty/core/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dusty::net {

struct resolver_config {
  /// Name servers to ask; empty means those of `resolv_conf` (and 127.0.0.1:53 when it
  /// names none). Tests point this at a server of their own on loopback.
  std::vector<socket_address> nameservers;
  std::string resolv_conf = "/etc/resolv.conf";
  std::string hosts_file = "/etc/hosts";
  /// Wait for one server's answer before trying the next (or again). Default 2 s.
  std::chrono::milliseconds attempt_timeout{2000};
  /// Rounds over the server list. Default 2.
  unsigned attempts = 2;
  std::chrono::seconds min_ttl{1};
  std::chrono::seconds max_ttl{300};
  std::chrono::seconds negative_ttl{10};
  /// Most names cached per shard; the least recently used goes first. Default 1024.
  std::size_t max_cache_entries = 1024;
};

/// Which families resolve() returns. `any` puts IPv6 addresses first when the answer
/// has both (RFC 6724's default preference), then IPv4.
enum class address_family { any, ipv4, ipv6 };

class resolver {
 public:
  explicit resolver(resolver_config config = {});
  ~resolver();
  resolver(const resolver&) = delete;
  resolver& operator=(const resolver&) = delete;

  /// The addresses of `host`, each with `port` set. Call from a fiber of the shard
  /// that owns this resolver; may suspend. Never returns an empty vector.
  result<std::vector<socket_address>> resolve(std::string_view host, std::uint16_t port,
                                              deadline d = no_deadline,
                                              address_family family = address_family::any);

  /// Forgets every cached answer of this resolver.
  void clear_cache() noexcept;

  /// The calling shard's resolver, with the default config; created on first use.
  static resolver& local();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace dusty::net
