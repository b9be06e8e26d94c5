#include <dusty/http/detail/shard_server.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/error.hpp>
#include <dusty/core/log.hpp>

#include <sys/socket.h>

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
  connections_.emplace_back();
  auto it = std::prev(connections_.end());
  it->worker = spawn([this, it, c = std::move(conn)]() mutable {
    try {
      h1::serve_connection(*state_, c, it->control, app_);
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

void shard_server::stop() {
  if (stopping_) return;
  stopping_ = true;
  if (acceptor_.joinable()) {
    acceptor_.cancel();
    try {
      acceptor_.join();
    } catch (const cancelled_error&) {
    }
  }
  if (listener_) listener_->close();

  for (auto& e : connections_) e.control.draining = true;
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
