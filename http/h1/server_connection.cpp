#include <dusty/http/h1/server_connection.hpp>

#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/log.hpp>
#include <dusty/http/detail/date_cache.hpp>
#include <dusty/http/detail/exchange.hpp>
#include <dusty/http/detail/request_access.hpp>
#include <dusty/http/h1/body_decoder.hpp>
#include <dusty/http/h1/request_parser.hpp>
#include <dusty/http/h1/serializer.hpp>
#include <dusty/http/h2/dispatch.hpp>
#include <dusty/http/status.hpp>
#include <dusty/net/buffered_stream.hpp>
#include <dusty/net/error.hpp>

#include <algorithm>
#include <cstring>
#include <optional>

namespace dusty::http::h1 {
namespace {

using detail::connection_control;
using detail::server_state;

class connection_sink;

// The connection's side of a request body: decodes it from the buffered stream as the
// handler asks. A piece stays in the input buffer (not consumed) until the next call,
// so the view handed out stays valid without a copy.
class connection_body final : public body_source {
 public:
  connection_body(net::buffered_stream& io, const request_head& head, const server_state& state,
                  const connection_sink& sink)
      : io_(io), head_(head), state_(state), sink_(sink) {}

  std::optional<std::uint64_t> length() const noexcept override {
    if (head_.framing == body_framing::content_length) return head_.content_length;
    return std::nullopt;
  }

  std::string_view read_some() override {
    if (failed_) throw status_error(400, "request body unreadable after an earlier error");
    io_.consume(std::exchange(unconsumed_, 0));
    if (!started_) start();
    while (!decoder_.done()) {
      if (io_.data().empty()) fill();
      auto piece = decoder_.decode(io_.view());
      if (!piece) fail(status_error(status_for(piece.error()), piece.error().message()));
      if (!piece->data.empty()) {
        unconsumed_ = piece->consumed;
        return piece->data;
      }
      io_.consume(piece->consumed);
    }
    return {};
  }

  /// Whether the connection may serve another request once the handler is done, as far
  /// as can be told before discarding anything: not when the body's framing was lost,
  /// the client still waits for a 100 (its body may or may not follow), or more is left
  /// than max_drain. Decided before the response goes out, so its head can say
  /// Connection: close (RFC 9110 section 10.1.1).
  bool reusable() const noexcept {
    if (head_.framing == body_framing::none) return true;
    if (failed_) return false;
    if (!started_ && head_.expect_continue) return false;
    if (head_.framing == body_framing::content_length) {
      std::uint64_t left = head_.content_length - (started_ ? decoder_.body_size() : 0);
      if (!started_ && head_.content_length > state_.config.limits.max_body_size) return false;
      if (left > state_.config.limits.max_drain) return false;
    }
    return true;
  }

  /// True when nothing of the body is left unread on the connection.
  bool complete() const noexcept {
    return head_.framing == body_framing::none || (started_ && !failed_ && decoder_.done());
  }

  /// After the handler: reads and discards what it left, up to max_drain. False when
  /// the connection cannot be reused (too much left, bad framing, client silent).
  bool drain() noexcept {
    io_.consume(std::exchange(unconsumed_, 0));
    if (head_.framing == body_framing::none) return true;
    if (!reusable()) return false;
    try {
      std::size_t discarded = 0;
      while (!read_some().empty()) {
        discarded += unconsumed_;
        io_.consume(std::exchange(unconsumed_, 0));
        if (discarded > state_.config.limits.max_drain) return false;
      }
      return true;
    } catch (...) {
      return false;
    }
  }

 private:
  void start();  // after connection_sink, which it asks

  void fill() {
    auto r = io_.fill(after(state_.config.timeouts.body_read));
    if (r) return;
    if (r.error() == dusty::errc::timed_out) fail(status_error(408, "timed out reading the request body"));
    if (r.error() == dusty::errc::eof) fail(status_error(400, "request body ended early"));
    failed_ = true;
    throw client_gone("client connection failed: " + r.error().message());
  }

  // The body's framing is lost: the connection cannot carry another request.
  [[noreturn]] void fail(const status_error& e) {
    failed_ = true;
    throw e;
  }

  net::buffered_stream& io_;
  const request_head& head_;
  const server_state& state_;
  const connection_sink& sink_;
  body_decoder decoder_;
  bool started_ = false;
  bool failed_ = false;
  std::size_t unconsumed_ = 0;
};

// The connection's side of a response: frames and writes it.
class connection_sink final : public detail::response_sink {
 public:
  connection_sink(net::buffered_stream& io, const server_state& state, connection_control& control)
      : io_(io), state_(state), control_(control) {}

  void begin(const request_head& head, bool closing) {
    head_ = &head;
    closing_ = closing;
    chunked_ = false;
    streamed_ = false;
  }
  bool closing() const noexcept { return closing_; }
  /// Whether the head of a streamed response went out already.
  bool head_sent() const noexcept { return streamed_; }
  /// Makes the response close the connection (before its head is sent).
  void close_after() noexcept { closing_ = true; }

  void send_head(const response& res) override {
    streamed_ = true;
    // HTTP/1.0 has no chunked coding: the body then ends when the connection does.
    chunked_ = head_->version == 11;
    if (!chunked_) closing_ = true;
    write_head(res, std::nullopt);
  }

  void send_piece(std::string_view data) override {
    if (head_->method == method::head || data.empty()) return;
    if (chunked_) {
      put(chunk_header(data.size()).view());
      put(data);
      put(chunk_end);
    } else {
      put(data);
    }
  }

  void flush() override {
    if (!io_.flush(after(state_.config.timeouts.write))) throw client_gone("client stopped reading");
  }

  /// Completes the exchange after the handler: the whole response, or the end of a
  /// streamed one.
  void finish(response& res) {
    if (streamed_) {
      if (res.used_writer()) send_piece(res.writer_body());
      if (chunked_ && head_->method != method::head) put(last_chunk);
      return;
    }
    if (const file_range* file = res.used_writer() ? nullptr : res.body.file()) {
      write_head(res, file->length);
      if (head_->method != method::head && status_allows_body(res.status)) send_file(*file);
      return;
    }
    std::string_view body = res.used_writer() ? res.writer_body() : res.body.view();
    write_head(res, body.size());
    if (head_->method != method::head && status_allows_body(res.status)) put(body);
  }

  taken_connection take_over(const response& res) override {
    out_.clear();
    start_line(res.status);
    for (const auto& f : res.headers()) append_field(out_, f.name, f.value);
    out_ += "\r\n";
    put(out_);
    flush();
    release();
    taken_over_ = true;
    return {&io_, &state_.config, &control_};
  }
  /// True once a handler took the connection over (take_over): it is no longer HTTP/1.
  bool taken_over() const noexcept { return taken_over_; }

  /// Frees the buffer the response heads are built in (the connection is going idle).
  void release() noexcept { std::string().swap(out_); }

  /// An answer the server makes itself (errors before routing, 503 when full).
  void send_plain(unsigned status, std::string_view text) {
    out_.clear();
    start_line(status);
    out_ += "Content-Type: text/plain\r\nContent-Length: ";
    append_number(out_, text.size());
    out_ += "\r\nConnection: close\r\n\r\n";
    out_ += text;
    put(out_);
  }

 private:
  void start_line(unsigned status) {
    append_status_line(out_, status);
    if (!state_.config.server_name.empty()) append_field(out_, "Server", state_.config.server_name);
    append_field(out_, "Date", detail::http_date());
  }

  // `length`: the Content-Length of a buffered body; none for a streamed one.
  void write_head(const response& res, std::optional<std::size_t> length) {
    if (res.closes_connection()) closing_ = true;
    out_.clear();
    start_line(res.status);
    for (const auto& f : res.headers()) append_field(out_, f.name, f.value);
    if (!length) {
      if (chunked_) out_ += "Transfer-Encoding: chunked\r\n";
    } else if (status_allows_body(res.status)) {
      out_ += "Content-Length: ";
      append_number(out_, *length);
      out_ += "\r\n";
    }
    if (closing_)
      out_ += "Connection: close\r\n";
    else if (head_->version == 10)
      out_ += "Connection: keep-alive\r\n";
    out_ += "\r\n";
    put(out_);
  }

  // The write timeout is for a client that stops reading, not a bound on a download: each
  // piece gets it afresh.
  void send_file(const file_range& file) {
    constexpr std::uint64_t piece = 4 << 20;
    for (std::uint64_t sent = 0; sent < file.length;) {
      std::uint64_t n = std::min(piece, file.length - sent);
      if (auto r = io_.send_file(file.file->get(), file.offset + sent, n, after(state_.config.timeouts.write)); !r) {
        if (r.error() == net::errc::file_truncated)
          log::warn("a file shrank while it was sent: closing the connection short of the ", file.length,
                    " bytes announced");
        throw client_gone("file body not sent: " + r.error().message());
      }
      sent += n;
    }
  }

  void put(std::string_view bytes) {
    if (!io_.write(bytes, after(state_.config.timeouts.write))) throw client_gone("client stopped reading");
  }

  net::buffered_stream& io_;
  const server_state& state_;
  connection_control& control_;
  const request_head* head_ = nullptr;
  std::string out_;
  bool closing_ = false;
  bool chunked_ = false;
  bool streamed_ = false;
  bool taken_over_ = false;
};

void connection_body::start() {
  started_ = true;
  auto d = body_decoder::create(head_, {.max_body_size = state_.config.limits.max_body_size});
  if (!d) fail(status_error(status_for(d.error()), d.error().message()));
  decoder_ = std::move(*d);
  // Once the final status went out, a 100 would land inside that response (RFC 9110
  // section 15.2: 1xx only precede the final response); the client, which has its answer,
  // sends the body or closes.
  if (head_.expect_continue && !decoder_.done() && !sink_.head_sent()) {
    static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
    if (!io_.write(go_on) || !io_.flush(after(state_.config.timeouts.write))) {
      failed_ = true;
      throw client_gone("client went away before sending its body");
    }
  }
}

// Why reading a request head stopped: a status to answer with before closing, or 0 to
// close silently (the client left or idled out).
unsigned head_failure_status(const std::error_code& ec) {
  if (ec == dusty::errc::timed_out) return 408;
  if (ec == net::errc::input_limit) return 431;
  return 0;
}

// Ends a connection after an answer while the client may still be sending (a body left
// unread, bytes after a rejected request). Closing a socket with unread input makes the
// kernel send a reset, which can destroy the answer before the client has read it (RFC
// 9112 section 9.6; nginx's lingering_close). So the answer goes out, the sending side is
// shut, and what still arrives is discarded until the client closes or timeouts.linger passes.
void linger_close(net::buffered_stream& io, const server_config& cfg, connection_control& control) {
  if (!io.flush(after(cfg.timeouts.write))) return;
  (void)io.next_layer().shutdown_write();
  control.idle = true;  // nothing left to finish: a stopping server may cancel it
  deadline until = after(cfg.timeouts.linger);
  for (;;) {
    io.consume(io.data().size());
    if (!io.fill(until)) return;
  }
}

// Waits for the first bytes of a request, as the idle connection it is. It holds its fiber
// for idle_hold at most (none when the server is short of fibers and this fiber has served
// a request already: a connection just given one reads first, else it could be handed
// from fiber to fiber without ever reading); then, when the server
// can park it and the stream holds nothing, it returns `parked`. Otherwise it gives back
// what serving a request left it holding (`release`: the arena's chunk, the parser's
// header storage, the head buffer, the stack pages below the wait) and waits on.
// Returns the bytes read (as fill does), an error, or nullopt for parked.
template <class Release>
std::optional<result<std::size_t>> wait_for_request(net::buffered_stream& io, connection_control& control,
                                                    std::chrono::steady_clock::duration timeout, bool served_here,
                                                    Release&& release) {
  auto now = std::chrono::steady_clock::now();
  deadline until = now + timeout;
  if (timeout <= idle_hold) return io.fill(until);
  bool scarce = served_here && control.fibers_scarce && *control.fibers_scarce;
  if (!scarce || !control.may_park) {
    auto r = io.fill(now + idle_hold);
    if (r || r.error() != dusty::errc::timed_out) return r;
  }
  if (control.may_park && !io.pending_output()) {
    if (int fd = io.next_layer().idle_socket(); fd >= 0) {
      control.park_socket = fd;
      control.idle_until = until;
      return std::nullopt;
    }
  }
  release();
  return io.fill(until);
}

// Adds one connection's requests and traffic to its shard's server_stats as each request
// ends, so the counters move with every answer, not only when a long keep-alive
// connection closes.
class connection_meter {
 public:
  connection_meter(server_stats& stats, const net::buffered_stream& io) noexcept : stats_(stats), io_(io) {}
  connection_meter(const connection_meter&) = delete;
  connection_meter& operator=(const connection_meter&) = delete;
  ~connection_meter() { add_traffic(); }

  void request_ended(unsigned status, std::chrono::steady_clock::time_point started) noexcept {
    stats_.count_request(status, std::chrono::steady_clock::now() - started);
    add_traffic();
  }

 private:
  void add_traffic() noexcept {
    stats_.bytes_received += io_.bytes_received() - received_;
    stats_.bytes_sent += io_.bytes_written() - sent_;
    received_ = io_.bytes_received();
    sent_ = io_.bytes_written();
  }

  server_stats& stats_;
  const net::buffered_stream& io_;
  std::uint64_t received_ = 0;
  std::uint64_t sent_ = 0;
};

}  // namespace

connection_end serve_connection(const server_state& state, net::stream& conn, connection_control& control,
                                server_stats& stats, void* app) {
  const auto& cfg = state.config;
  net::buffered_stream io(conn, {.max_input = cfg.limits.max_head_size + 4096});
  request_parser parser({.max_request_line = cfg.limits.max_request_line,
                         .max_head_size = cfg.limits.max_head_size,
                         .max_headers = cfg.limits.max_headers});
  dusty::arena arena;
  connection_sink sink(io, state, control);
  connection_meter meter(stats, io);
  std::optional<net::socket_address> remote;
  if (auto a = conn.remote_address()) remote = *a;

  for (bool served_here = false;; served_here = true) {
    // Wait for a request, with nothing but the socket held while idle.
    // Responses coalesced from a pipelined batch go out before the connection counts as
    // idle: a stopping server cancels idle connections, and must not cut finished answers.
    if (io.data().empty() && io.pending_output() && !io.flush(after(cfg.timeouts.write))) return connection_end::closed;
    if (control.stopping) return connection_end::closed;
    control.idle = true;
    if (io.data().empty()) {
      auto timeout = control.served ? cfg.timeouts.keep_alive : cfg.timeouts.request_head;
      auto r = wait_for_request(io, control, timeout, served_here, [&] {
        parser.release_storage();
        arena.release();
        sink.release();
        release_memory_while_parked();
      });
      if (!r) return connection_end::parked;
      if (!*r) return connection_end::closed;  // closed, or idle too long: nothing to answer
    }
    control.idle = false;
    if (!control.served) {
      // The first bytes of a plain connection may be HTTP/2's preface (h2c, prior knowledge).
      auto next = h2::take_prior_knowledge(state, io, control, stats, app);
      if (next != h2::handover::not_http2) return connection_end::closed;
    }
    control.served = true;

    // Read the head, under one deadline from its first byte (slowloris gets 408).
    auto started = std::chrono::steady_clock::now();
    deadline head_deadline = started + cfg.timeouts.request_head;
    std::size_t head_size = 0;
    for (;;) {
      auto parsed = parser.parse(io.view());
      if (!parsed) {
        unsigned status = static_cast<unsigned>(status_for(parsed.error()));
        sink.send_plain(status, reason_phrase(status));
        meter.request_ended(status, started);
        linger_close(io, cfg, control);
        return connection_end::closed;
      }
      if ((head_size = *parsed) != 0) break;
      if (io.pending_output() && !io.flush(after(cfg.timeouts.write))) return connection_end::closed;
      auto r = io.fill(head_deadline);
      if (!r) {
        if (unsigned status = head_failure_status(r.error())) {
          sink.send_plain(status, reason_phrase(status));
          meter.request_ended(status, started);
          linger_close(io, cfg, control);
        }
        return connection_end::closed;
      }
    }

    // The head moves to the request's arena so the input buffer is free to change.
    char* copy = static_cast<char*>(arena.allocate(head_size, 1));
    std::memcpy(copy, io.view().data(), head_size);
    parser.rebase(copy);
    io.consume(head_size);
    const request_head& head = parser.head();

    connection_body body(io, head, state, sink);
    request req(head, arena, &body, cfg.limits.max_query_params);
    detail::request_access::set_app(req, app);
    if (remote) detail::request_access::set_remote_address(req, *remote);
    response res(arena, sink, cfg.writer_buffer);
    sink.begin(head, !head.keep_alive || control.draining);

    auto ended = detail::run_exchange(state.routes, cfg, req, res).end;
    if (sink.taken_over() || ended != detail::exchange_end::answered) {
      meter.request_ended(res.status, started);
      return connection_end::closed;
    }

    try {
      // A stop that began during the handler also ends the connection: say so.
      if (!body.reusable() || control.draining) sink.close_after();
      sink.finish(res);
    } catch (const client_gone&) {
      meter.request_ended(res.status, started);
      return connection_end::closed;
    }
    meter.request_ended(res.status, started);
    bool keep = !sink.closing() && body.drain();
    bool input_left = !body.complete() || !io.data().empty();
    parser.reset();
    arena.reset();
    if (!keep || control.draining) {
      if (input_left) {
        linger_close(io, cfg, control);
      } else {
        (void)io.flush(after(cfg.timeouts.write));
        (void)conn.shutdown_write();
      }
      return connection_end::closed;
    }
  }
}

}  // namespace dusty::http::h1
