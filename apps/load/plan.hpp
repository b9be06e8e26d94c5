#pragma once
// load_plan: everything a shard needs to generate its share of the load. Built once on
// shard 0 from the options, then copied to every shard (share-nothing: each shard reads
// its own copy, never shard 0's).
#include <dusty/net/address.hpp>
#include <dusty/net/tls/context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace dusty::load {

struct load_plan {
  /// Where to connect (resolved on shard 0 before the run).
  net::socket_address address;
  /// https: the client context (built once on shard 0, shared read-only by every shard)
  /// and the host name for SNI and certificate checks. Null: plain HTTP.
  std::shared_ptr<const net::tls::context> tls;
  std::string tls_host;
  /// https: resume the shard's last session on a new connection.
  bool tls_resume = true;
  /// One complete request, sent as it is, again and again (--ws: the opening handshake,
  /// sent once per connection).
  std::string request;
  /// --ws: WebSocket echo instead of HTTP requests; ws_frame is the message, one masked
  /// binary frame sent as it is, again and again.
  bool ws = false;
  std::string ws_frame;
  /// The request is a HEAD: its responses have no body.
  bool head_request = false;
  /// Connections over all shards; connection j belongs to shard j % shards.
  unsigned connections = 1;
  unsigned shards = 1;
  /// Requests written at once per connection (closed loop); most in flight (open loop).
  unsigned pipeline = 1;
  /// Requests per second over all connections; unset: closed loop.
  std::optional<double> rate;
  /// Longest wait to connect, and longest time without a response while requests are
  /// outstanding.
  std::chrono::nanoseconds timeout{std::chrono::seconds(2)};
  /// The measured interval: the run starts at `start` (the rate schedule's origin) and
  /// nothing completing after `end` is counted.
  std::chrono::steady_clock::time_point start;
  std::chrono::steady_clock::time_point end;
};

}  // namespace dusty::load
