#pragma once
// What a shard of dusty-load counts while it runs, and how the shards' counts become one
// (shard_stats::merge, applied on shard 0 to each shard's stats after the run).
#include "histogram.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dusty::load {

/// Transport and protocol failures; answers with status >= 500 are counted apart (they
/// are answers, not failures of the connection).
enum class error_kind : std::uint8_t {
  connect,   ///< The connection could not be made (refused, unreachable, timed out).
  read,      ///< Reading a response failed: reset, or closed with requests outstanding.
  write,     ///< Sending a request failed.
  timeout,   ///< No complete response within --timeout of sending the request.
  protocol,  ///< The response was not valid HTTP/1.x.
};
inline constexpr std::size_t error_kinds = 5;

inline std::string_view to_string(error_kind k) noexcept {
  switch (k) {
    case error_kind::connect: return "connect";
    case error_kind::read: return "read";
    case error_kind::write: return "write";
    case error_kind::timeout: return "timeout";
    case error_kind::protocol: return "protocol";
  }
  return "?";
}

/// The counters a progress line shows; cheap to collect every second.
struct progress_counts {
  std::uint64_t responses = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t errors = 0;

  progress_counts& operator+=(const progress_counts& o) noexcept {
    responses += o.responses;
    bytes_read += o.bytes_read;
    errors += o.errors;
    return *this;
  }
};

/// One shard's counts. Only that shard's fibers touch it while the run lasts, so the
/// hot path updates it without atomics.
struct shard_stats {
  /// Complete responses received before the end of the run (any status).
  std::uint64_t responses = 0;
  /// Bytes received and sent on the sockets (heads and bodies).
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  /// Connections made (the first ones and every reconnection).
  std::uint64_t connects = 0;
  /// https: TLS handshakes completed, and of those the ones that resumed a session. A
  /// failed handshake counts as a connect error.
  std::uint64_t tls_handshakes = 0;
  std::uint64_t tls_resumed = 0;
  std::array<std::uint64_t, error_kinds> errors{};
  /// Responses by status code; slot 0 holds codes outside 100..999.
  std::array<std::uint64_t, 1000> status{};
  /// Latency of every response: from the send (closed loop) or the scheduled send (--rate)
  /// to the complete response, in nanoseconds.
  latency_histogram latency;

  void count(error_kind k) noexcept { ++errors[static_cast<std::size_t>(k)]; }
  void count_status(unsigned code) noexcept { ++status[code < status.size() ? code : 0]; }

  std::uint64_t error(error_kind k) const noexcept { return errors[static_cast<std::size_t>(k)]; }
  std::uint64_t total_errors() const noexcept {
    std::uint64_t n = 0;
    for (auto e : errors) n += e;
    return n;
  }
  /// Responses with a status of 500 or more.
  std::uint64_t server_errors() const noexcept {
    std::uint64_t n = 0;
    for (std::size_t c = 500; c < status.size(); ++c) n += status[c];
    return n;
  }
  progress_counts progress() const noexcept { return {responses, bytes_read, total_errors()}; }

  /// Adds another shard's counts (same histogram parameters).
  void merge(const shard_stats& o) {
    responses += o.responses;
    bytes_read += o.bytes_read;
    bytes_written += o.bytes_written;
    connects += o.connects;
    tls_handshakes += o.tls_handshakes;
    tls_resumed += o.tls_resumed;
    for (std::size_t i = 0; i < errors.size(); ++i) errors[i] += o.errors[i];
    for (std::size_t i = 0; i < status.size(); ++i) status[i] += o.status[i];
    latency.merge(o.latency);
  }
};

}  // namespace dusty::load
