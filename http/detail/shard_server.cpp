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
  auto it = connections_.emplace(connections_.end(), this);
  it->self = it;
  it->control.draining = draining_;
  it->control.may_park = true;
  it->control.fibers_scarce = &fibers_scarce_;
  try {
    if (tls_) {
      auto s = std::make_unique<net::tls::stream>(tls_->current(), std::move(conn));
      it->socket = &s->transport();
      it->stream = std::move(s);
    } else {
      auto c = std::make_unique<net::connection>(std::move(conn));
      it->socket = c.get();
      it->stream = std::move(c);
    }
  } catch (const std::exception& e) {
    log::error("connection not served: ", e.what());
    conn.close();
    connections_.erase(it);
    return;
  }
  ++stats_.connections_accepted;
  run(it);
}

void shard_server::run(entry_list::iterator it) {
  if (stopping_) return close(it);
  std::size_t limit = state_->config.limits.max_active_connections;
  if (limit != 0 && working_ >= limit) {
    it->queued = true;
    waiting_.push_back(it);
    fibers_scarce_ = true;
    return;
  }
  try {
    it->worker = spawn([this, it] { work(it); });
    ++working_;
  } catch (const std::exception& e) {
    // Out of memory or mappings for a stack: this connection is dropped, others go on.
    log::error("no fiber for a connection: ", e.what());
    close(it);
  }
}

void shard_server::work(entry_list::iterator it) {
  auto end = h1::connection_end::closed;
  try {
    end = serve_stream(*it);
  } catch (const cancelled_error&) {
    // Shutdown or drain deadline: the connection just ends.
  } catch (const std::exception& e) {
    log::error("connection failed: ", e.what());
  }
  --working_;
  bool parked = false;
  if (end == h1::connection_end::parked && !stopping_) {
    try {
      it->watch.arm(it->control.park_socket, it->control.idle_until);
      parked = true;
    } catch (const std::exception& e) {
      log::error("connection not parked: ", e.what());
    }
  }
  if (parked) {
    // Dropping the handle to this very fiber detaches it; it ends when this returns, and
    // its stack's pages go back to the kernel with the next idle trim.
    it->worker = fiber();
    try {
      release_idle_memory();
    } catch (const std::exception&) {  // no helper fiber now: the next park asks again
    }
  } else {
    close(it);
  }
  // A fiber came free: the connection that has waited longest for one gets it.
  if (!waiting_.empty()) {
    auto next = waiting_.front();
    waiting_.pop_front();
    fibers_scarce_ = !waiting_.empty();
    next->queued = false;
    run(next);
  }
}

h1::connection_end shard_server::serve_stream(entry& e) {
  if (tls_) {
    auto& s = static_cast<net::tls::stream&>(*e.stream);
    if (!s.handshake_done() && !handshake(e, s)) return h1::connection_end::closed;
    if (s.alpn() == "h2") {
      h2::serve_connection(*state_, s, e.control, stats_, app_);
      return h1::connection_end::closed;
    }
  }
  return h1::serve_connection(*state_, *e.stream, e.control, stats_, app_);
}

// A new connection's TLS handshake, in its fiber. The connection counts as idle until a
// request arrives, so a stopping server cancels a handshake in progress at once. Failed and
// timed-out handshakes are counted by the stream (net::tls::shard_counters) and end the
// connection without a log line: on an open port they are routine (scanners, health
// checks), and logging each would let anyone fill the log.
bool shard_server::handshake(entry& e, net::tls::stream& s) {
  const auto& cfg = state_->config;
  e.control.idle = true;
  auto h = s.handshake(after(cfg.timeouts.tls_handshake));
  if (h) return true;
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
  return false;
}

void shard_server::close(entry_list::iterator it) noexcept {
  it->stream->close();
  connections_.erase(it);
  connection_ended_.notify_all();
}

// A parked connection's watch fired, on the shard's loop: input gives it a fiber again
// (a stopping server closes it instead); the idle timeout closes it.
void shard_server::on_input(void* owner, input_watch::event e) noexcept {
  auto& en = *static_cast<entry*>(owner);
  auto* self = en.server;
  if (e == input_watch::event::timed_out || self->stopping_)
    self->close(en.self);
  else
    self->run(en.self);
}

server_stats shard_server::stats() const noexcept {
  server_stats s = stats_;
  s.connections_open = connections_.size();
  for (const auto& e : connections_) {
    s.connections_idle += e.control.idle && !e.queued;
    s.connections_parked += e.watch.armed();
  }
  s.connections_waiting = waiting_.size();
  s.connection_fibers = working_;
  s.fibers = live_fibers();
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
  for (auto& e : connections_) {
    e.control.stopping = true;
    if (e.control.on_stop) e.control.on_stop();  // a WebSocket session says 1001
  }
  if (acceptor_.joinable()) {
    acceptor_.cancel();
    try {
      acceptor_.join();
    } catch (const cancelled_error&) {
    }
  }
  if (listener_) listener_->close();

  // Connections waiting for a fiber are closed here; parked ones are woken (a shutdown of
  // the reading side is input for their watch) and close themselves on the loop.
  for (auto w : std::exchange(waiting_, {})) close(w);
  fibers_scarce_ = false;
  for (auto& e : connections_)
    if (e.watch.armed()) (void)e.socket->shutdown(net::shutdown_how::read);

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
