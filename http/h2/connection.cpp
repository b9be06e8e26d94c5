#include <dusty/http/h2/connection.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/log.hpp>

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>

namespace dusty::http::h2 {
namespace {

using clock = std::chrono::steady_clock;

// A drain (server::stop) sets a flag on the connection without waking it; the connection's
// fiber looks at least this often, so that its GOAWAY goes out promptly. One timer a
// second per connection.
constexpr std::chrono::milliseconds drain_poll{1000};
// Frames are gathered up to this much before a write.
constexpr std::size_t write_batch = 64 * 1024;
// How long a connection rests before it gives back memory it can do without.
constexpr std::chrono::milliseconds idle_release_after{250};

connection& self(void* user_data) { return *static_cast<connection*>(user_data); }

// Exceptions must not cross nghttp2's C frames: one from a callback (out of memory, a
// fiber that cannot be started) fails the session instead.
template <class F>
int guarded(F&& f) noexcept {
  try {
    return f();
  } catch (...) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
}

int begin_frame_cb(nghttp2_session*, const nghttp2_frame_hd* hd, void* ud) {
  return guarded([&] { return self(ud).on_begin_frame(hd->type, hd->stream_id); });
}

int begin_headers_cb(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  return guarded([&] { return self(ud).on_begin_headers(frame->hd.stream_id); });
}

int header_cb(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name, std::size_t namelen,
              const std::uint8_t* value, std::size_t valuelen, std::uint8_t, void* ud) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  return guarded([&] {
    return self(ud).on_header(frame->hd.stream_id, frame->headers.cat == NGHTTP2_HCAT_HEADERS,
                              {reinterpret_cast<const char*>(name), namelen},
                              {reinterpret_cast<const char*>(value), valuelen});
  });
}

int frame_recv_cb(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
  bool request = frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST;
  return guarded([&] {
    return self(ud).on_frame_recv(frame->hd.type, frame->hd.flags, frame->hd.stream_id, frame->hd.length, request);
  });
}

int data_chunk_cb(nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* data, std::size_t len,
                  void* ud) {
  return guarded([&] { return self(ud).on_data_chunk(id, {reinterpret_cast<const char*>(data), len}); });
}

int frame_send_cb(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
  return guarded([&] { return self(ud).on_frame_send(frame->hd.type, frame->hd.flags, frame->hd.stream_id); });
}

int stream_close_cb(nghttp2_session*, std::int32_t id, std::uint32_t error_code, void* ud) {
  return guarded([&] { return self(ud).on_stream_close(id, error_code); });
}

nghttp2_session* make_session(connection* c, const server_config::http2_config& cfg) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_option* opt = nullptr;
  if (nghttp2_session_callbacks_new(&cbs) != 0) throw std::bad_alloc();
  if (nghttp2_option_new(&opt) != 0) {
    nghttp2_session_callbacks_del(cbs);
    throw std::bad_alloc();
  }
  nghttp2_session_callbacks_set_on_begin_frame_callback(cbs, begin_frame_cb);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, begin_headers_cb);
  nghttp2_session_callbacks_set_on_header_callback(cbs, header_cb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, frame_recv_cb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, data_chunk_cb);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, frame_send_cb);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, stream_close_cb);
  // Windows open as handlers read (nghttp2_session_consume), not as bytes arrive.
  nghttp2_option_set_no_auto_window_update(opt, 1);
  // RST_STREAM counts against flood_guard's budget (GOAWAY ENHANCE_YOUR_CALM); nghttp2's
  // own limit (GOAWAY INTERNAL_ERROR) stays as a second line behind it.
  nghttp2_option_set_stream_reset_rate_limit(opt, 2 * std::uint64_t{cfg.max_control_frames},
                                             std::max<std::uint64_t>(1, cfg.max_control_frames / 5));
  // Closed streams are not kept for the RFC 7540 priority tree (priorities are ignored).
  nghttp2_option_set_no_closed_streams(opt, 1);
  nghttp2_session* s = nullptr;
  int rv = nghttp2_session_server_new2(&s, cbs, c, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  if (rv != 0) throw std::bad_alloc();
  std::array<nghttp2_settings_entry, 6> settings{{
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, cfg.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, cfg.initial_window_size},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, std::clamp<std::uint32_t>(cfg.max_frame_size, 16'384, 16'777'215)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, cfg.max_header_list_size},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, cfg.header_table_size},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  }};
  nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  if (cfg.connection_window_size > NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE) {
    auto window = std::min<std::uint32_t>(cfg.connection_window_size, NGHTTP2_MAX_WINDOW_SIZE);
    nghttp2_session_set_local_window_size(s, NGHTTP2_FLAG_NONE, 0, static_cast<std::int32_t>(window));
  }
  return s;
}

}  // namespace

connection::connection(const detail::server_state& state, net::buffered_stream& io,
                       detail::connection_control& control, server_stats& stats, void* app, bool count_bytes)
    : state_(state),
      io_(io),
      control_(control),
      stats_(stats),
      app_(app),
      flood_(state.config.http2.max_control_frames),
      count_bytes_(count_bytes) {
  if (auto a = io.next_layer().remote_address()) remote_ = *a;
  counted_received_ = io.bytes_received();
  counted_sent_ = io.bytes_written();
  session_ = make_session(this, state.config.http2);
  auto now = clock::now();
  settings_deadline_ = now + state.config.http2.settings_timeout;
  last_activity_ = now;
  // Time points start from now, never from the clock's epoch (the boot): a connection is
  // not idle "since boot", and its first sweep is one drain_poll away.
  idle_since_ = now;
  next_sweep_ = now;
}

connection::~connection() {
  // run() has ended every fiber; the streams go before the session they point into.
  streams_.clear();
  nghttp2_session_del(session_);
}

void connection::wake() noexcept {
  wake_pending_ = true;
  wake_.notify_one();
}

void connection::resume(stream& st) noexcept {
  if (st.out_deferred && !st.closed) {
    st.out_deferred = false;
    nghttp2_session_resume_data(session_, st.id);
  }
  wake();
}

void connection::terminate(std::uint32_t error_code) noexcept {
  nghttp2_session_terminate_session(session_, error_code);
  goaway_sent_ = true;
  wake();
}

void connection::run() {
  reader_ = spawn([this] { read_loop(); });
  try {
    serve();
  } catch (...) {
    shut_down();
    throw;
  }
  shut_down();
  if (goaway_sent_) linger();
}

// After a GOAWAY the client may still be sending (a flood, a request it had already
// started): closing with unread input would make the kernel reset the connection, and
// the reset can destroy the GOAWAY before the client reads it (h1's linger_close does
// the same for HTTP/1 answers). So the sending side is shut and what still arrives is
// discarded until the client closes or timeouts.linger passes.
void connection::linger() {
  control_.idle = true;  // nothing left to finish: a stopping server may cancel it
  if (io_.pending_output() && !io_.flush(after(state_.config.timeouts.write))) return;
  (void)io_.next_layer().shutdown_write();
  deadline until = after(state_.config.timeouts.linger);
  for (;;) {
    io_.consume(io_.data().size());
    if (!io_.fill(until)) return;
  }
}

void connection::serve() {
  const auto& cfg = state_.config.http2;
  for (;;) {
    if (!flush_output()) return;
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) return;
    // The client closed or its side failed: nothing more to serve, but a GOAWAY the
    // reader queued (its last word on a flood or a protocol error) still goes out.
    if (reader_done_ && (!goaway_sent_ || !nghttp2_session_want_write(session_))) return;
    auto now = clock::now();
    if ((control_.draining || control_.stopping) && !goaway_sent_) {
      // RFC 9113 section 6.8: streams up to the last one processed are served; the client
      // retries later ones elsewhere.
      nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                            NGHTTP2_NO_ERROR, nullptr, 0);
      goaway_sent_ = true;
      continue;
    }
    if (!settings_acked_ && now >= settings_deadline_) {
      terminate(NGHTTP2_SETTINGS_TIMEOUT);
      continue;
    }
    if (now >= next_sweep_) {
      sweep(now);
      next_sweep_ = now + drain_poll;
    }
    bool idle = streams_.empty();
    if (!idle || wake_pending_) {
      idle_since_ = now;
      released_ = false;
    }
    if (idle && now >= last_activity_ + cfg.idle_timeout) {
      terminate(NGHTTP2_NO_ERROR);
      continue;
    }
    deadline until = now + drain_poll;
    if (!settings_acked_) until = std::min(until, settings_deadline_);
    if (idle) until = std::min(until, last_activity_ + cfg.idle_timeout);
    if (!wake_pending_) {
      control_.idle = idle;
      if (idle && !released_) {
        // At rest a moment: give back the write buffer and the stack pages under this
        // wait, once per idle spell.
        until = std::min(until, now + idle_release_after);
        if (now >= idle_since_ + idle_release_after) {
          std::string().swap(out_);
          release_memory_while_parked();
          released_ = true;
        }
      }
      try {
        with_deadline(until, [this] { wake_.wait(); });
      } catch (const timeout_error&) {
      }
      control_.idle = false;
    }
    wake_pending_ = false;
  }
}

bool connection::flush_output() {
  const auto write_timeout = state_.config.timeouts.write;
  auto send = [&] {
    bool ok = io_.write(out_, after(write_timeout)) && io_.flush(after(write_timeout));
    out_.clear();
    return ok;
  };
  for (;;) {
    const std::uint8_t* data = nullptr;
    auto n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      log::warn("http2: nghttp2_session_mem_send: ", nghttp2_strerror(static_cast<int>(n)));
      return false;
    }
    if (n == 0) {
      // While a write waits, other fibers may give nghttp2 more to send: ask again
      // after each write, until it has nothing.
      if (out_.empty()) return true;
      if (!send()) return false;
      continue;
    }
    out_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    if (out_.size() >= write_batch && !send()) return false;
  }
}

void connection::read_loop() {
  try {
    for (;;) {
      auto in = io_.data();
      if (!in.empty()) {
        auto n = nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(in.data()), in.size());
        io_.consume(in.size());
        if (n < 0) {
          // nghttp2 has queued a GOAWAY for protocol errors it detects itself; for the
          // rest (floods, bad preface), say why ourselves.
          bool flood = flooded_ || n == NGHTTP2_ERR_FLOODED || n == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS;
          auto code = flood ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR;
          terminate(code);
          break;
        }
        wake();
      }
      if (!nghttp2_session_want_read(session_)) break;
      if (!wait_for_input()) break;
      last_activity_ = clock::now();
    }
  } catch (const cancelled_error&) {
  }
  // A GOAWAY the reader queued still goes out: the connection's fiber writes before it
  // looks at reader_done_.
  reader_done_ = true;
  wake();
}

// Waits for the client's next bytes. When none come for idle_release_after, the pages
// the reader's stack touched below this wait (nghttp2's callbacks, starting fibers) go
// back to the kernel first, as HTTP/1's keep-alive wait does.
bool connection::wait_for_input() {
  auto r = io_.fill(after(idle_release_after));
  if (r) return true;
  if (r.error() != dusty::errc::timed_out) return false;
  release_memory_while_parked();
  return bool(io_.fill());
}

int connection::on_begin_frame(std::uint8_t type, std::int32_t id) {
  // RFC 9113 section 5.1.1: a new stream's id must be above every earlier one. nghttp2
  // ignores a HEADERS below the last one silently (it may be a trailer racing a reset);
  // for one on a stream that was never opened here, the client hears of it.
  if (type != NGHTTP2_HEADERS || id > last_request_id_ || id % 2 == 0 || streams_.contains(id)) return 0;
  if (!flood_.control_frame()) {
    flooded_ = true;
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_STREAM_CLOSED);
  wake();
  return 0;
}

int connection::on_begin_headers(std::int32_t id) {
  last_request_id_ = std::max(last_request_id_, id);
  // Streams whose fibers are still unwinding count too: a client resetting streams as
  // fast as it opens them (Rapid Reset) cannot pile up fibers beyond twice the limit.
  if (goaway_sent_ || streams_.size() >= 2 * std::size_t{state_.config.http2.max_concurrent_streams}) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
    return 0;
  }
  auto* st = streams_.emplace(id, std::make_unique<stream>(id)).first->second.get();
  nghttp2_session_set_stream_user_data(session_, id, st);
  return 0;
}

int connection::on_header(std::int32_t id, bool trailer, std::string_view name, std::string_view value) {
  auto* st = static_cast<stream*>(nghttp2_session_get_stream_user_data(session_, id));
  if (!st || trailer) return 0;  // request trailers are not passed to handlers
  const auto& cfg = state_.config;
  st->header_list_size += name.size() + value.size() + 32;
  if (st->header_list_size > cfg.http2.max_header_list_size || st->fields.size() >= cfg.limits.max_headers)
    st->headers_too_large = true;
  if (st->headers_too_large) return 0;
  if (!name.empty() && name[0] == ':') {
    auto v = st->arena.copy(value);
    if (name == ":method") st->method = v;
    else if (name == ":path") st->path = v;
    else if (name == ":scheme") st->scheme = v;
    else if (name == ":authority") st->authority = v;
    return 0;
  }
  st->fields.push_back({st->arena.copy(name), st->arena.copy(value)});
  return 0;
}

int connection::on_frame_recv(std::uint8_t type, std::uint8_t flags, std::int32_t id, std::size_t length,
                              bool request_headers) {
  bool end_stream = flags & NGHTTP2_FLAG_END_STREAM;
  bool ok = true;
  switch (type) {
    case NGHTTP2_DATA:
      if (length == 0 && !end_stream) ok = flood_.control_frame();
      break;
    case NGHTTP2_SETTINGS:
      if (flags & NGHTTP2_FLAG_ACK)
        settings_acked_ = true;
      else
        ok = flood_.control_frame();
      break;
    case NGHTTP2_PING:
      if (!(flags & NGHTTP2_FLAG_ACK)) ok = flood_.control_frame();
      break;
    case NGHTTP2_PRIORITY:
    case NGHTTP2_RST_STREAM:
      ok = flood_.control_frame();
      break;
    case NGHTTP2_WINDOW_UPDATE:
      ok = flood_.window_update();
      break;
    default:
      break;
  }
  if (!ok) {
    // Not logged: any client could fill the log. nghttp2 stops at once, without
    // processing the rest of what was read; read_loop sends the GOAWAY.
    flooded_ = true;
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  if (type != NGHTTP2_DATA && type != NGHTTP2_HEADERS) return 0;
  auto* st = static_cast<stream*>(nghttp2_session_get_stream_user_data(session_, id));
  if (!st) return 0;
  if (request_headers) start_stream(*st);
  if (end_stream) {
    st->body_ended = true;
    st->body_arrived.notify_all();
  }
  return 0;
}

int connection::on_data_chunk(std::int32_t id, std::string_view data) {
  // The connection's window is given back at once: each stream's window is what bounds
  // the bytes held for handlers that have not read them yet.
  nghttp2_session_consume_connection(session_, data.size());
  auto* st = static_cast<stream*>(nghttp2_session_get_stream_user_data(session_, id));
  if (!st || st->ph == stream::phase::done || st->discarding) {
    nghttp2_session_consume_stream(session_, id, data.size());
    if (st && st->discarding) discard(*st, data.size());
    return 0;
  }
  st->body.emplace_back(data);
  st->body_arrived.notify_all();
  return 0;
}

int connection::on_frame_send(std::uint8_t type, std::uint8_t flags, std::int32_t id) {
  if (type == NGHTTP2_DATA) flood_.data_frame_sent();
  if ((type == NGHTTP2_DATA || type == NGHTTP2_HEADERS) && (flags & NGHTTP2_FLAG_END_STREAM)) {
    if (auto* st = static_cast<stream*>(nghttp2_session_get_stream_user_data(session_, id))) {
      st->response_sent = true;
      st->out_progress.notify_all();
      if (st->ph == stream::phase::done) start_discard(*st);
    }
  }
  return 0;
}

int connection::on_stream_close(std::int32_t id, std::uint32_t) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return 0;
  stream& st = *it->second;
  st.closed = true;
  st.body_arrived.notify_all();
  st.out_progress.notify_all();
  last_activity_ = clock::now();
  switch (st.ph) {
    case stream::phase::head:
    case stream::phase::done:
      if (!closing_) streams_.erase(it);
      break;
    case stream::phase::queued:
      break;  // its worker finds it closed and drops it
    case stream::phase::running:
      // The client reset the stream (or nghttp2 did, for a protocol error): nobody wants
      // the answer any more.
      if (st.in_handler && st.runner) st.runner->cancel();
      break;
  }
  return 0;
}

void connection::count_traffic() noexcept {
  if (!count_bytes_) return;
  stats_.bytes_received += io_.bytes_received() - counted_received_;
  stats_.bytes_sent += io_.bytes_written() - counted_sent_;
  counted_received_ = io_.bytes_received();
  counted_sent_ = io_.bytes_written();
}

void connection::shut_down() noexcept {
  closing_ = true;
  if (reader_.joinable()) {
    reader_.cancel();
    reader_.join_uncancellable();
  }
  for (auto& w : workers_) w.cancel();
  for (auto& w : workers_) w.join_uncancellable();
  workers_.clear();
  ready_.clear();
  count_traffic();
}

}  // namespace dusty::http::h2
