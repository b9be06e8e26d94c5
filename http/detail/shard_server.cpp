#include <dusty/http/detail/shard_server.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/error.hpp>
#include <dusty/core/log.hpp>
#include <dusty/http/h2/server_connection.hpp>
#include <dusty/net/error.hpp>
#include <dusty/net/tls/stream.hpp>

#include <sys/socket.h>

#include <span>
#include <string>
#include <string_view>

namespace dusty::http::detail {

shard_server::~shard_server() = default;

net::socket_address shard_server::listen(const net::socket_address& address) {
  auto l = net::listen(address, {});
  if (!l) throw std::system_error(l.error(), "listen on " + address.to_string());
  listener_.emplace(std::move(*l));
  return listener_->local_address();
}

void shard_server::start(void* app) {
  app_ = app;
  if (listener_) acceptor_ = spawn([this] { accept_loop(); });
}

void shard_server::accept_loop() {
  for (;;) {
    auto conn = listener_->accept();
    if (!conn) {
      auto ec = conn.error();
      if (ec == dusty::errc::closed) return;
      if (ec == std::errc::too_many_files_open || ec == std::errc::too_many_files_open_in_system ||
          ec == std::errc::not_enough_memory || ec == std::errc::no_buffer_space) {
        // Out of descriptors or memory: back off instead of spinning; connections in
        // the backlog wait.
        log::warn("accept on ", listener_->local_address().to_string(), ": ", ec);
        sleep_for(std::chrono::milliseconds(10));
      }
      continue;
    }
    if (connections_.size() >= state_->config.limits.max_connections) {
      ++stats_.connections_rejected;
      if (tls_) {
        // A TLS client cannot read a plaintext 503, and a handshake is the very work
        // a full shard should not take on: close at once (the client sees a reset or
        // a handshake failure and may retry), as nginx does when it runs out of
        // worker_connections.
        conn->close();
        continue;
      }
      // Full: answer at once without a fiber. A fresh socket's send buffer is empty, so
      // this short non-blocking send cannot stall the accept loop.
      static constexpr std::string_view full =
          "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      [[maybe_unused]] auto n = ::send(conn->fd(), full.data(), full.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      // Discard the request if it is already here: closing with unread input would reset
      // the connection, and the reset can destroy the 503 before the client reads it.
      char scratch[4096];
      for (int i = 0; i < 16 && ::recv(conn->fd(), scratch, sizeof scratch, MSG_DONTWAIT) > 0; ++i) {
      }
      conn->close();
      continue;
    }
    serve(std::move(*conn));
  }
}

void shard_server::serve(net::connection conn) {
  // Streamed responses (chunks, events) go out in small writes; with Nagle each one
  // would wait for the client's delayed ACK (40 ms on Linux). Fails harmlessly on Unix sockets.
  (void)conn.set_nodelay(true);
  ++stats_.connections_accepted;
  connections_.emplace_back();
  auto it = std::prev(connections_.end());
  it->control.draining = draining_;
  it->worker = spawn([this, it, c = std::move(conn)]() mutable {
    try {
      if (tls_)
        serve_tls(std::move(c), it->control);
      else
        h1::serve_connection(*state_, c, it->control, stats_, app_);
    } catch (const cancelled_error&) {
      // Shutdown or drain deadline: the connection just ends.
    } catch (const std::exception& e) {
      log::error("connection failed: ", e.what());
    }
    c.close();
    connections_.erase(it);
    connection_ended_.notify_all();
    // Erasing the entry drops the handle to this very fiber, which detaches it.
  });
}

// The connection's fiber on a TLS port: the handshake, then HTTP/1 over the TLS stream.
// The connection counts as idle until a request arrives, so a stopping server cancels a
// handshake in progress at once. Failed and timed-out handshakes are counted by the
// stream (net::tls::shard_counters) and end the connection without a log line: on an
// open port they are routine (scanners, health checks), and logging each would let
// anyone fill the log.
void shard_server::serve_tls(net::connection conn, connection_control& control) {
  const auto& cfg = state_->config;
  net::tls::stream s(tls_->current(), std::move(conn));
  control.idle = true;
  auto h = s.handshake(after(cfg.timeouts.tls_handshake));
  if (!h) {
    if (h.error() == net::errc::tls_plaintext_http) {
      // nginx's answer (its error 497), in plaintext on the socket under TLS: the client
      // speaks HTTP/1 without TLS and can read it. Then the sending side is shut and what
      // the client still sends is discarded for a moment, so that closing does not reset
      // the connection before the answer is read.
      static constexpr std::string_view body = "The plain HTTP request was sent to HTTPS port";
      static const std::string answer = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: " +
                                        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + std::string(body);
      auto& t = s.transport();
      if (t.write(std::as_bytes(std::span(answer.data(), answer.size())), after(cfg.timeouts.write))) {
        (void)t.shutdown_write();
        deadline until = after(cfg.timeouts.linger);
        std::byte scratch[4096];
        while (t.read_some(scratch, until)) {
        }
      }
    }
    return;
  }
  if (s.alpn() == "h2")
    h2::serve_connection(*state_, s, control, stats_, app_);
  else
    h1::serve_connection(*state_, s, control, stats_, app_);
}

server_stats shard_server::stats() const noexcept {
  server_stats s = stats_;
  s.connections_open = connections_.size();
  for (const auto& e : connections_) s.connections_idle += e.control.idle;
  s.draining = draining_;
  return s;
}

void shard_server::begin_drain() noexcept {
  draining_ = true;
  for (auto& e : connections_) e.control.draining = true;
}

void shard_server::stop() {
  if (stopping_) return;
  stopping_ = true;
  begin_drain();
  for (auto& e : connections_) e.control.stopping = true;
  if (acceptor_.joinable()) {
    acceptor_.cancel();
    try {
      acceptor_.join();
    } catch (const cancelled_error&) {
    }
  }
  if (listener_) listener_->close();

  auto deadline = std::chrono::steady_clock::now() + state_->config.timeouts.drain;
  while (!connections_.empty()) {
    bool late = std::chrono::steady_clock::now() >= deadline;
    for (auto& e : connections_)
      if (e.control.idle || late) e.worker.cancel();
    try {
      if (late)
        connection_ended_.wait();
      else
        with_deadline(deadline, [this] { connection_ended_.wait(); });
    } catch (const timeout_error&) {
    }
  }
}

}  // namespace dusty::http::detail
