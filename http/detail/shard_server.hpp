#pragma once
// One shard's part of a server: its listener, the fiber accepting on it, and the fibers
// of its connections. Lives in a sharded<shard_server>, so each is built, run and
// stopped on its own shard. With TLS (server_config::tls), each connection's fiber runs
// the TLS handshake (bounded by timeouts.tls_handshake) before the HTTP/1 loop.
#include <dusty/core/fiber.hpp>
#include <dusty/core/wait_queue.hpp>
#include <dusty/http/h1/server_connection.hpp>
#include <dusty/http/server_stats.hpp>
#include <dusty/net/listener.hpp>
#include <dusty/net/tls/context.hpp>

#include <list>
#include <optional>

namespace dusty::http::detail {

class shard_server {
 public:
  /// `tls`: the context holder of a TLS port (shared by every shard, outliving them), or
  /// null for plain HTTP.
  explicit shard_server(const server_state* state, net::tls::context_holder* tls = nullptr) noexcept
      : state_(state), tls_(tls) {}
  ~shard_server();

  /// Binds and listens on `address` (SO_REUSEPORT). Throws std::system_error with a
  /// message naming the address. Returns the bound address (the real port for port 0).
  net::socket_address listen(const net::socket_address& address);
  /// Starts accepting; `app` is passed to every handler of this shard.
  void start(void* app);
  /// The first step of a stop: from now on draining() is true (readiness fails), while
  /// the shard goes on accepting and serving, each connection closing after its next
  /// answer (Connection: close) so that clients reconnect through their load balancer,
  /// which by then sends them elsewhere. Never suspends.
  void begin_drain() noexcept;
  /// Graceful stop (begin_drain() first if it was not): no new connections, idle ones
  /// closed at once, busy ones finish their current request within timeouts.drain and
  /// are then cancelled. Suspends until every connection of this shard is gone.
  void stop();

  bool draining() const noexcept { return draining_; }
  std::size_t connections() const noexcept { return connections_.size(); }
  /// A copy of this shard's counters with the gauges filled in. Never suspends.
  server_stats stats() const noexcept;

 private:
  struct entry {
    fiber worker;
    connection_control control;
  };
  void accept_loop();
  void serve(net::connection conn);
  void serve_tls(net::connection conn, connection_control& control);

  const server_state* state_;
  net::tls::context_holder* tls_;
  void* app_ = nullptr;
  std::optional<net::listener> listener_;
  fiber acceptor_;
  std::list<entry> connections_;
  dusty::wait_queue connection_ended_;
  server_stats stats_;
  bool draining_ = false;
  bool stopping_ = false;
};

}  // namespace dusty::http::detail
