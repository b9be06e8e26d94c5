#pragma once
// dusty-load's command line: what a run does, parsed and checked before anything starts.
#include <dusty/core/reactor.hpp>

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dusty::load {

struct load_options {
  /// Connections kept open, spread over the shards (-c). Required.
  unsigned connections = 0;
  /// How long to measure (-d). Required.
  std::chrono::nanoseconds duration{0};
  /// Shards (threads), each pinned to its own CPU (-t). Default: 1.
  unsigned shards = 1;
  /// Pipelining depth (--pipeline): requests written at once per connection, and the
  /// most in flight. Default: 1 (no pipelining).
  unsigned pipeline = 1;
  /// Requests per second over all connections (--rate); unset: closed loop, as fast as
  /// the server answers.
  std::optional<double> rate;
  /// Extra header fields, in order (-H). A Host field replaces the one from the URL.
  std::vector<std::pair<std::string, std::string>> headers;
  /// Request method token (-m). Default: GET.
  std::string method = "GET";
  /// File whose contents are the request body (--body); sent with Content-Length.
  std::optional<std::string> body_file;
  /// Longest wait for connecting and for each response (--timeout). Default: 2 s.
  std::chrono::nanoseconds timeout = std::chrono::seconds(2);
  /// Print one JSON object instead of the text report (--json).
  bool json = false;
  /// Reactor backend (--backend). Default: automatic (DUSTY_BACKEND overrides).
  backend_kind backend = backend_kind::automatic;
  /// PEM file of CAs to trust for https:// instead of the system's (--cacert).
  std::optional<std::string> cacert;
  /// Skip certificate and host name verification (-k/--insecure). INSECURE. Default: false.
  bool insecure = false;
  /// Resume TLS sessions when a connection is replaced (--no-resume turns it off, so
  /// that every new connection makes a full handshake). Default: true.
  bool resume = true;
  /// WebSocket echo load instead of HTTP requests (--ws): each connection upgrades, then
  /// sends binary messages of `message_size` bytes and times their echoes.
  bool ws = false;
  /// --ws: bytes per message (--size). Default: 64.
  std::size_t message_size = 64;
  /// The URL to load (http:// or https://; ws:// and wss:// with --ws).
  std::string url;
  /// --help was given: print usage() and exit 0.
  bool help = false;
};

/// The usage text for --help.
std::string usage();

/// Parses argv. Errors are one line for stderr, without the program name.
std::expected<load_options, std::string> parse_options(int argc, char** argv);

/// Parses a duration: a decimal number and a unit (ns, us, ms, s, m, h), or a bare number
/// of seconds: "10s", "1m", "500ms", "1.5s", "30".
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

/// "10s", "1m30s", "500ms": the shortest exact spelling, for reports.
std::string format_duration(std::chrono::nanoseconds d);

}  // namespace dusty::load
