#include <dusty/http/ws/session.hpp>

#include <dusty/core/error.hpp>
#include <dusty/core/log.hpp>
#include <dusty/http/detail/server_state.hpp>
#include <dusty/http/response.hpp>
#include <dusty/net/buffered_stream.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace dusty::http::ws {

using clock = std::chrono::steady_clock;

session::session(net::buffered_stream& io, const server_config::websocket_config& config,
                 std::chrono::milliseconds write_timeout, std::string protocol, std::optional<deflate_params> deflate,
                 ws::role side)
    : io_(io),
      config_(config),
      write_timeout_(write_timeout),
      protocol_(std::move(protocol)),
      deflate_bits_(!deflate ? 0 : side == ws::role::server ? deflate->server_max_window_bits : deflate->client_max_window_bits),
      role_(side),
      reader_({.max_frame_size = config.max_frame_size,
               .max_message_size = config.max_message_size,
               .expect_masked = side == ws::role::server,
               .deflate = deflate.has_value()}),
      last_rx_(clock::now()) {}

std::optional<message> session::receive() {
  opcode type;
  bool last;
  auto data = next_data(delivery::whole, type, last);
  if (!data) return std::nullopt;
  mid_message_ = false;
  return message{type == opcode::text ? message_type::text : message_type::binary, std::move(*data)};
}

std::optional<message_piece> session::receive_some() {
  opcode type;
  bool last;
  auto data = next_data(delivery::pieces, type, last);
  if (!data) return std::nullopt;
  bool first = !mid_message_;
  mid_message_ = !last;
  return message_piece{type == opcode::text ? message_type::text : message_type::binary, std::move(*data), first, last};
}

std::optional<std::string> session::next_data(delivery how, opcode& type, bool& last) {
  if (state_ == state::closed || receiving_) return std::nullopt;
  receiving_ = true;
  struct reset {
    bool& flag;
    ~reset() { flag = false; }
  } guard{receiving_};
  for (;;) {
    if (state_ == state::closed) return std::nullopt;
    std::size_t used = 0;
    event ev = reader_.next(io_.data(), used, how);
    if (used) {
      last_rx_ = clock::now();
      ping_outstanding_ = false;
    }
    // A control frame's payload lives in the reader, not in the input: consuming is safe.
    io_.consume(used);
    switch (ev.kind) {
      case event_kind::message:
      case event_kind::piece:
        if (state_ != state::open) {  // after our close frame, messages are dropped
          (void)reader_.take_message();
          continue;
        }
        type = ev.type;
        last = ev.kind == event_kind::message;
        return reader_.take_message();
      case event_kind::ping:
        if (state_ == state::open) (void)write_frame(opcode::pong, ev.payload);
        continue;
      case event_kind::pong:
        continue;
      case event_kind::close:
        if (state_ == state::open) {
          // Echo the peer's code (section 5.5.1), then the server ends the TCP connection.
          closed_with_ = {ev.code, std::string(ev.payload)};
          state_ = state::closing;
          (void)write_frame(opcode::close, close_payload(ev.code, {}));
        }
        state_ = state::closed;
        return std::nullopt;
      case event_kind::error:
        if (state_ == state::open) {
          fail(ev.code, ev.payload);
        } else {
          state_ = state::closed;  // already closing: the peer's last bytes do not matter
        }
        return std::nullopt;
      case event_kind::need_more:
        break;
    }
    auto r = wait_for_input();
    if (r) continue;
    if (r.error() == dusty::errc::timed_out) {
      on_timer();
      continue;
    }
    if (state_ == state::open) closed_with_ = {close_code::abnormal, "connection ended without a close frame"};
    state_ = state::closed;
    return std::nullopt;
  }
}

// A session waits for its peer most of its life. Once a wait has lasted a moment, the
// stack pages the fiber touched below it (the upgrade, the handler's earlier work) go
// back to the kernel (dusty::release_memory_while_parked), as an idle HTTP/1 keep-alive
// connection's do: an idle session then costs little more than its socket. The wait
// keeps one deadline either way; a session kept busy never reaches the first one.
result<std::size_t> session::wait_for_input() {
  static constexpr std::chrono::milliseconds release_after{250};
  auto deadline = next_deadline();
  auto soon = clock::now() + release_after;
  if (!io_.data().empty() || deadline <= soon) return io_.fill(deadline);
  auto r = io_.fill(soon);
  if (r || r.error() != dusty::errc::timed_out) return r;
  release_memory_while_parked();
  return io_.fill(deadline);
}

clock::time_point session::next_deadline() const noexcept {
  if (state_ == state::closing) return close_deadline_;
  auto d = clock::time_point::max();
  if (config_.idle_timeout.count() > 0) d = last_rx_ + config_.idle_timeout;
  if (config_.ping_interval.count() > 0)
    d = std::min(d, (ping_outstanding_ ? ping_sent_ : last_rx_) + config_.ping_interval);
  return d;
}

void session::on_timer() {
  auto now = clock::now();
  if (state_ == state::closing) {
    if (now >= close_deadline_) state_ = state::closed;  // the peer never answered our close
    return;
  }
  if (config_.ping_interval.count() > 0) {
    if (ping_outstanding_ && now >= ping_sent_ + config_.ping_interval) {
      drop(close_code::abnormal, "peer did not answer a keep-alive ping");
      return;
    }
    if (!ping_outstanding_ && now >= last_rx_ + config_.ping_interval) {
      ping_outstanding_ = true;
      ping_sent_ = now;
      (void)write_frame(opcode::ping, {});
    }
  }
  if (config_.idle_timeout.count() > 0 && now >= last_rx_ + config_.idle_timeout && state_ == state::open)
    start_close(close_code::going_away, "idle timeout");
}

bool session::send_data(opcode op, std::string_view payload) {
  if (state_ != state::open) return false;
  // Below this, DEFLATE's block overhead outweighs what it saves.
  static constexpr std::size_t compress_from = 64;
  if (deflate_bits_ && payload.size() >= compress_from) {
    std::string compressed;
    deflate_message(payload, deflate_bits_, compressed);
    return write_frame(op, compressed, 4);
  }
  return write_frame(op, payload);
}

bool session::ping(std::string_view payload) {
  if (state_ != state::open) return false;
  return write_frame(opcode::ping, payload.substr(0, std::min<std::size_t>(payload.size(), 125)));
}

session::~session() {
  // Closed first and forgotten by the services holding it (on_end) before the join below
  // suspends: nothing posts to a session on its way out.
  state_ = state::closed;
  for (auto& fn : on_end_) fn();
  if (poster_.joinable()) {
    poster_.cancel();
    try {
      poster_.join();
    } catch (...) {  // cancelled mid-write, or the write failed: the session ends anyway
    }
  }
}

std::size_t session::own_header(std::span<std::byte, max_header_size> head, opcode op, std::size_t length,
                                mask_key& key, std::uint8_t rsv) const {
  if (role_ == ws::role::server) return write_header(head, op, true, length, nullptr, rsv);
  // A fresh unpredictable key per frame (section 5.3), so a page's script cannot choose
  // the bytes an intermediary sees. A predictable key would defeat the masking: without
  // randomness, send nothing.
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1)
    throw std::runtime_error("ws: no random bytes for a frame mask (OpenSSL RAND_bytes failed)");
  return write_header(head, op, true, length, &key, rsv);
}

bool session::write_frame(opcode op, std::string_view payload, std::uint8_t rsv) {
  if (state_ == state::closed) return false;
  std::array<std::byte, max_header_size> head;
  mask_key key;
  std::size_t n = own_header(head, op, payload.size(), key, rsv);
  std::string masked;  // a client's payload, masked: the caller's bytes are const
  if (role_ == ws::role::client) {
    masked.assign(payload);
    apply_mask(std::as_writable_bytes(std::span(masked)), key);
    payload = masked;
  }
  if (cork(op, {reinterpret_cast<const char*>(head.data()), n}, payload)) return true;
  if (writing_) {
    // Another fiber is writing: queue behind it, within the limit, and wait for the flush.
    if (!enqueue({reinterpret_cast<const char*>(head.data()), n}, payload, op)) return false;
    auto mine = queued_gen_;
    while (flushed_gen_ < mine && dropped_gen_ < mine && state_ != state::closed) written_.wait();
    return dropped_gen_ < mine && flushed_gen_ >= mine;
  }
  writing_ = true;
  std::array<iovec, 2> iov{iovec{head.data(), n}, iovec{const_cast<char*>(payload.data()), payload.size()}};
  return write_then_flush(iov);
}

bool session::post(std::shared_ptr<const std::string> frame) {
  // encode_frame() makes a server's unmasked frames: a client may not send them.
  if (state_ != state::open || role_ == ws::role::client) return false;
  if (writing_) return enqueue(*frame, {}, opcode::binary);
  writing_ = true;
  // The fiber that wrote the last post() has finished (writing_ was false): replacing its
  // handle detaches nothing still running.
  poster_ = spawn([this, frame = std::move(frame)] {
    std::array<iovec, 1> iov{iovec{const_cast<char*>(frame->data()), frame->size()}};
    (void)write_then_flush(iov);
  });
  return true;
}

// Echo servers answer a burst of messages that arrived in one read one by one; writing
// each at once costs a system call per message, which is what bounds them (Node's ws
// corks its socket for the same reason). So a data frame sent while more of the peer's
// input is already buffered (the next receive() will not wait) is held back, up to
// cork_limit bytes, and a fiber started for it writes everything held in one write once
// the sender waits (normally in receive(), when the buffered input is used up). A send
// that finds the hold full, or the input empty, goes the usual way: behind the held
// frames, waiting for the write as before, so a sender still cannot outrun its peer.
bool session::cork(opcode op, std::string_view head, std::string_view payload) {
  static constexpr std::size_t cork_limit = 64 * 1024;
  if (is_control(op) || receiving_ || state_ != state::open) return false;
  if (pending_.size() + head.size() + payload.size() > cork_limit) return false;
  if (writing_) {
    if (!corked_) return false;  // a write is under way: wait for it as usual
  } else {
    if (io_.data().empty()) return false;  // nothing more to answer: write now
    writing_ = true;
    corked_ = true;
    // As in post(): writing_ was false, so the last poster has finished.
    poster_ = spawn([this] {
      corked_ = false;
      // The batch may hold frames queued behind the held ones by waiting senders (a pong).
      auto gen = queued_gen_;
      std::string batch;
      batch.swap(pending_);
      std::array<iovec, 1> iov{iovec{batch.data(), batch.size()}};
      if (write_then_flush(iov) && flushed_gen_ < gen) {
        flushed_gen_ = gen;
        written_.notify_all();
      }
    });
  }
  pending_.append(head);
  pending_.append(payload);
  return true;
}

void session::close_async(std::uint16_t code, std::string_view reason) {
  if (state_ != state::open) return;
  if (!close_code_valid(code)) code = close_code::normal;
  closed_with_ = {code, std::string(reason)};
  state_ = state::closing;
  close_deadline_ = clock::now() + config_.close_timeout;
  auto payload = close_payload(code, reason);
  std::array<std::byte, max_header_size> head;
  mask_key key;
  std::size_t n = own_header(head, opcode::close, payload.size(), key);
  if (role_ == ws::role::client) apply_mask(std::as_writable_bytes(std::span(payload)), key);
  std::string frame(reinterpret_cast<const char*>(head.data()), n);
  frame += payload;
  if (writing_) {
    // Behind the frame in flight. A close frame is never refused for the queue's limit:
    // it is small and the last thing this session sends.
    pending_ += frame;
    ++queued_gen_;
    return;
  }
  writing_ = true;
  // As in post(): writing_ was false, so the last poster has finished.
  poster_ = spawn([this, frame = std::move(frame)] {
    std::array<iovec, 1> iov{iovec{const_cast<char*>(frame.data()), frame.size()}};
    (void)write_then_flush(iov);
  });
}

bool session::enqueue(std::string_view head, std::string_view payload, opcode op) {
  if (pending_.size() + head.size() + payload.size() > config_.max_queued_bytes) {
    if (op != opcode::close && state_ == state::open) {
      // The close frame goes out after the frame in flight; frames queued are dropped.
      pending_.clear();
      dropped_gen_ = queued_gen_;
      closed_with_ = {close_code::policy_violation, "outgoing queue full"};
      state_ = state::closing;
      close_deadline_ = clock::now() + config_.close_timeout;
      append_frame(pending_, opcode::close, close_payload(close_code::policy_violation, "outgoing queue full"));
      written_.notify_all();
    }
    return false;
  }
  pending_.append(head);
  pending_.append(payload);
  ++queued_gen_;
  return true;
}

bool session::write_then_flush(std::span<const iovec> first) {
  bool ok = false;
  try {
    ok = io_.writev(first, clock::now() + write_timeout_).has_value();
    while (ok && !pending_.empty()) {
      std::string batch;
      batch.swap(pending_);
      auto gen = queued_gen_;
      std::array<iovec, 1> one{iovec{batch.data(), batch.size()}};
      ok = io_.writev(one, clock::now() + write_timeout_).has_value();
      if (ok) flushed_gen_ = gen;
      written_.notify_all();
    }
  } catch (...) {
    writing_ = false;
    state_ = state::closed;
    written_.notify_all();
    throw;
  }
  writing_ = false;
  if (!ok) {
    // The peer stopped reading for write_timeout, or the connection broke.
    state_ = state::closed;
    if (closed_with_.code == close_code::abnormal) closed_with_.reason = "write failed or timed out";
    pending_.clear();
    dropped_gen_ = queued_gen_;
    written_.notify_all();
  }
  return ok;
}

void session::start_close(std::uint16_t code, std::string_view reason) {
  if (state_ != state::open) return;
  if (!close_code_valid(code)) code = close_code::normal;
  closed_with_ = {code, std::string(reason)};
  state_ = state::closing;
  close_deadline_ = clock::now() + config_.close_timeout;
  (void)write_frame(opcode::close, close_payload(code, reason));
}

void session::close(std::uint16_t code, std::string_view reason) {
  if (state_ == state::open) start_close(code, reason);
  if (receiving_ || state_ != state::closing) return;
  // Wait for the peer's close frame; receive() discards messages while closing.
  while (receive()) {
  }
}

void session::fail(std::uint16_t code, std::string_view reason) {
  // _Fail the WebSocket Connection_ (section 7.1.7): say why, then end it. The peer may be
  // mid-frame (an oversized message): read and discard until it closes, so our close frame
  // is not destroyed by a reset for unread input.
  start_close(code, reason);
  state_ = state::closed;
  linger();
}

void session::linger() noexcept {
  try {
    (void)io_.next_layer().shutdown_write();
    auto until = clock::now() + config_.close_timeout;
    for (;;) {
      io_.consume(io_.data().size());
      if (!io_.fill(until)) return;
    }
  } catch (...) {
  }
}

void session::drop(std::uint16_t code, std::string_view reason) noexcept {
  closed_with_ = {code, std::string(reason)};
  state_ = state::closed;
}

std::shared_ptr<const std::string> encode_frame(opcode op, std::string_view payload) {
  auto frame = std::make_shared<std::string>();
  frame->reserve(max_header_size + payload.size());
  append_frame(*frame, op, payload);
  return frame;
}

namespace detail {

handler upgrade_handler(route_options options, session_handler fn) {
  return [options = std::move(options), fn = std::move(fn)](request& req, response& res) {
    auto answer = check_handshake(req, options);
    if (answer.status != 101) {
      res.status = answer.status;
      if (answer.status == 426) {
        res.header("Upgrade", "websocket");
        res.header("Sec-WebSocket-Version", "13");
      }
      res.content_type("text/plain");
      res.body = answer.reason;
      return;
    }
    res.status = 101;
    res.header("Upgrade", "websocket");
    res.header("Connection", "Upgrade");
    res.header("Sec-WebSocket-Accept", answer.accept);
    if (!answer.protocol.empty()) res.header("Sec-WebSocket-Protocol", answer.protocol);
    if (answer.deflate) res.header("Sec-WebSocket-Extensions", deflate_response(*answer.deflate));
    auto taken = res.take_over_connection();
    if (!taken.io) {
      res.reset();
      res.status = 501;
      res.content_type("text/plain");
      res.body = "WebSocket needs a connection to take over";
      return;
    }
    session ws(*taken.io, taken.config->websocket, taken.config->timeouts.write, std::move(answer.protocol),
               answer.deflate);
    // A stopping server says 1001 to the session (without suspending: stop() calls every
    // connection's hook in turn); the hook goes before the session does.
    struct stop_hook {
      http::detail::connection_control* control;
      ~stop_hook() {
        if (control) control->on_stop = nullptr;
      }
    } hook{taken.control};
    if (taken.control) {
      if (taken.control->stopping)
        ws.close_async(close_code::going_away, "server shutting down");
      else
        taken.control->on_stop = [&ws] { ws.close_async(close_code::going_away, "server shutting down"); };
    }
    try {
      fn(req, ws);
    } catch (const cancelled_error&) {
      throw;
    } catch (const std::exception& e) {
      log::error("websocket handler for ", req.path(), " failed: ", e.what());
      ws.close(close_code::internal_error, "internal error");
      return;
    }
    ws.close();
  };
}

}  // namespace detail
}  // namespace dusty::http::ws
