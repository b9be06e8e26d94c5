#pragma once
// One shard's part of a server: its listener, the fiber accepting on it, and its
// connections. Lives in a sharded<shard_server>, so each is built, run and stopped on its
// own shard. With TLS (server_config::tls), a connection's fiber runs the TLS handshake
// (bounded by timeouts.tls_handshake) before the HTTP/1 loop.
//
// A connection has a fiber only while it has work. When it idles (h1::serve_connection
// returns `parked`), its fiber ends and the connection waits as a small entry with an
// input_watch on its socket: no stack, no buffers. Input gives it a fiber again (at
// once, or in turn when limits.max_active_connections fibers are busy); the idle timeout
// closes it from the watch's deadline, with no fiber to cancel.
#include <dusty/core/fiber.hpp>
#include <dusty/core/input_watch.hpp>
#include <dusty/core/wait_queue.hpp>
#include <dusty/http/h1/server_connection.hpp>
#include <dusty/http/server_stats.hpp>
#include <dusty/net/listener.hpp>
#include <dusty/net/tls/context.hpp>
#include <dusty/net/tls/stream.hpp>

#include <deque>
#include <list>
#include <memory>
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
  /// Graceful stop (begin_drain() first if it was not): no new connections, idle and
  /// parked ones closed at once, busy ones finish their current request within
  /// timeouts.drain and are then cancelled. Suspends until every connection of this
  /// shard is gone.
  void stop();

  bool draining() const noexcept { return draining_; }
  std::size_t connections() const noexcept { return connections_.size(); }
  /// A copy of this shard's counters with the gauges filled in. Never suspends.
  server_stats stats() const noexcept;

 private:
  struct entry;
  using entry_list = std::list<entry>;
  struct entry {
    entry(shard_server* s) : server(s), watch(&on_input, this) {}
    shard_server* server;
    entry_list::iterator self;
    std::unique_ptr<net::stream> stream;  ///< A net::connection, or a tls::stream over one.
    net::connection* socket = nullptr;    ///< The TCP connection under `stream`.
    fiber worker;                          ///< Empty while parked or waiting for a fiber.
    connection_control control;
    input_watch watch;  ///< Armed while parked.
    bool queued = false;  ///< Has input and waits for a fiber.
  };
  void accept_loop();
  void serve(net::connection conn);
  /// Gives the connection a fiber, or queues it when max_active_connections are busy.
  void run(entry_list::iterator it);
  /// The body of a connection's fiber: serves until the connection parks or ends.
  void work(entry_list::iterator it);
  /// The TLS handshake (if the port is TLS and it has not happened), then HTTP/1.
  h1::connection_end serve_stream(entry& e);
  bool handshake(entry& e, net::tls::stream& s);
  /// Closes the connection and forgets it.
  void close(entry_list::iterator it) noexcept;
  static void on_input(void* owner, input_watch::event e) noexcept;

  const server_state* state_;
  net::tls::context_holder* tls_;
  void* app_ = nullptr;
  std::optional<net::listener> listener_;
  fiber acceptor_;
  entry_list connections_;
  std::deque<entry_list::iterator> waiting_;  ///< Connections with input, waiting for a fiber.
  bool fibers_scarce_ = false;                ///< !waiting_.empty(), for connection_control.
  std::size_t working_ = 0;                   ///< Connection fibers alive.
  dusty::wait_queue connection_ended_;
  server_stats stats_;
  bool draining_ = false;
  bool stopping_ = false;
};

}  // namespace dusty::http::detail
