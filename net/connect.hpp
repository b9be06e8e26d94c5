#pragma once
// connect to a host by name: resolve it on this shard (net::resolver), then try each
// address in the resolver's order (IPv6 first) until one accepts, all under one deadline.
//
//   auto c = net::connect_to("example.com", 80, {.deadline = after(10s), .attempt_timeout = 3s});
//   if (!c) log::error("cannot reach example.com: ", c.error().code.message());
//
// Call from a fiber; suspends. The connection belongs to the calling shard. TCP sockets
// it returns have TCP_NODELAY set: the layers above coalesce their own writes.
#include <dusty/net/connection.hpp>
#include <dusty/net/resolver.hpp>

#include <chrono>
#include <expected>
#include <optional>
#include <string_view>

namespace dusty::net {

/// Why connect_to() failed.
struct connect_error {
  /// From the resolver (errc::host_not_found, errc::dns_failure, errc::invalid_host_name,
  /// dusty::errc::timed_out) when `address` is empty; else the last connect(2) failure
  /// (ECONNREFUSED, dusty::errc::timed_out, ...).
  std::error_code code;
  /// The last address tried; empty when the name did not resolve.
  std::optional<socket_address> address;
};

struct connect_options {
  /// For the whole of it: resolution and every attempt. Default: none.
  dusty::deadline deadline = no_deadline;
  /// For each step on its own (resolving, then each address), within `deadline`, so that
  /// an address that does not answer leaves time for the next. Zero: no limit of its
  /// own. Default: 0.
  std::chrono::milliseconds attempt_timeout{0};
  /// Which addresses to try. Default: any (IPv6 first).
  address_family family = address_family::any;
};

/// Resolves `host` (a name or an IP literal) and connects to the first address that
/// accepts. Throws cancelled_error when the calling fiber is cancelled.
std::expected<connection, connect_error> connect_to(std::string_view host, std::uint16_t port,
                                                   const connect_options& options = {});

}  // namespace dusty::net
