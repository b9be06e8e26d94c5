#pragma once
// Per-shard TLS counters, and whether the kernel could take over TLS (kTLS).
//
// kTLS: Linux can encrypt TLS records itself once the handshake is done (the `tls` TCP
// ULP, setsockopt(TCP_ULP, "tls") plus the keys), so that plain send/recv and sendfile
// work on a TLS socket. OpenSSL does this only through its socket BIO, which performs
// the socket I/O itself. dusty's tls::stream drives OpenSSL through its own BIO over the
// shard's reactor instead (see stream.hpp), so kTLS never engages: every connection is
// counted as userspace. ktls_available() still detects the kernel module, once per
// process, so that the log says which case a machine is in; a kTLS path (a reactor
// readiness wait plus OpenSSL's socket BIO, used only where the module exists) is not
// built, and nothing about its speed has been measured.
#include <cstdint>

namespace dusty::net::tls {

/// Counts of the calling shard (plain integers, no atomics: read them on that shard, or
/// collect them with sharded/map_reduce).
struct counters {
  std::uint64_t handshakes_ok = 0;        ///< Handshakes that completed.
  std::uint64_t handshakes_failed = 0;    ///< Handshakes that failed, timed out, or were abandoned.
  std::uint64_t resumed = 0;              ///< Completed handshakes that resumed a session.
  std::uint64_t plaintext_http = 0;       ///< Of the failed: plaintext HTTP on the TLS port.
  std::uint64_t ktls_connections = 0;     ///< Connections whose records the kernel encrypts (always 0, see above).
  std::uint64_t userspace_connections = 0;  ///< Connections whose records OpenSSL encrypts.
};

/// The calling thread's (shard's) counters. Never suspends.
counters& shard_counters() noexcept;

/// Whether this kernel offers the `tls` TCP ULP (kTLS). Checked once per process, by
/// /proc/sys/net/ipv4/tcp_available_ulp and, failing that, a setsockopt(TCP_ULP, "tls")
/// on an unconnected socket (ENOENT: no module). Any thread; never suspends.
bool ktls_available() noexcept;

}  // namespace dusty::net::tls
