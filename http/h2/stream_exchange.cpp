// One stream's fiber: the request as a handler sees it, the handler run through
// detail::run_exchange, and the response handed to nghttp2 (connection::run_stream).
#include <dusty/http/h2/connection.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/error.hpp>
#include <dusty/core/log.hpp>
#include <dusty/http/detail/ascii.hpp>
#include <dusty/http/detail/date_cache.hpp>
#include <dusty/http/detail/exchange.hpp>
#include <dusty/http/detail/request_access.hpp>
#include <dusty/http/h2/request_head.hpp>
#include <dusty/http/status.hpp>

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace dusty::http::h2 {
namespace {

using clock = std::chrono::steady_clock;

// Streamed bytes a handler may have waiting for the client's window before its next
// piece waits: the window, not the server's memory, paces a streamed response.
constexpr std::size_t out_high_water = 64 * 1024;

// nghttp2's data provider: frames what the stream's fiber left in stream::out, then the
// borrowed buffered body. DEFERRED when nothing is there yet (connection::resume).
ssize_t read_response_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                           std::uint32_t* flags, nghttp2_data_source* source, void*) {
  auto& st = *static_cast<stream*>(source->ptr);
  if (st.out_aborted) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets the stream
  std::size_t n = std::min(length, st.out.size() - st.out_offset);
  std::memcpy(buf, st.out.data() + st.out_offset, n);
  st.out_offset += n;
  if (st.out_offset == st.out.size()) {
    st.out.clear();
    st.out_offset = 0;
  }
  std::size_t m = std::min(length - n, st.out_borrowed.size());
  if (m) std::memcpy(buf + n, st.out_borrowed.data(), m);  // an empty view's data() may be null
  st.out_borrowed.remove_prefix(m);
  n += m;
  if (st.out_eof && st.out_pending() == 0) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  } else if (n == 0) {
    st.out_deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  st.out_framed += n;
  st.out_progress.notify_all();
  return static_cast<ssize_t>(n);
}

// Fields HTTP/2 forbids in a message (RFC 9113 section 8.2.2), and the length the
// server sets itself.
bool dropped_field(std::string_view name) noexcept {
  using detail::iequals;
  return iequals(name, "connection") || iequals(name, "keep-alive") || iequals(name, "proxy-connection") ||
         iequals(name, "transfer-encoding") || iequals(name, "upgrade") || iequals(name, "content-length");
}

// The request body as the handler reads it: pieces from DATA frames, each window given
// back to the client (WINDOW_UPDATE) only once the handler has taken the piece.
class stream_body final : public body_source {
 public:
  stream_body(connection& c, stream& st, const request_head& head) : c_(c), st_(st), head_(head) {}

  std::optional<std::uint64_t> length() const noexcept override {
    auto v = head_.header("content-length");
    if (!v) return std::nullopt;
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || end != v->data() + v->size()) return std::nullopt;
    return n;
  }

  std::string_view read_some() override {
    const auto& cfg = c_.state().config;
    give_back();
    if (!started_) {
      started_ = true;
      if (auto n = length(); n && *n > cfg.limits.max_body_size)
        throw status_error(413, "request body too large");
      continue_if_expected();
    }
    deadline until = after(cfg.timeouts.body_read);
    while (st_.body.empty()) {
      if (st_.body_ended) return {};
      if (st_.closed) throw client_gone("the client reset the stream");
      try {
        with_deadline(until, [&] { st_.body_arrived.wait(); });
      } catch (const timeout_error&) {
        throw status_error(408, "timed out reading the request body");
      }
    }
    std::string_view piece = st_.body.front();
    read_ += piece.size();
    if (read_ > cfg.limits.max_body_size)
      throw status_error(413, "request body too large");
    if (auto n = length(); n && read_ > *n) throw status_error(400, "request body longer than its Content-Length");
    lent_ = true;
    return piece;
  }

 private:
  void give_back() {
    if (!lent_ || st_.body.empty()) return;
    lent_ = false;
    std::size_t n = st_.body.front().size();
    st_.body.pop_front();
    if (!st_.closed) {
      nghttp2_session_consume_stream(c_.session(), st_.id, n);
      c_.wake();
    }
  }

  // RFC 9110 section 10.1.1: a client waiting for 100 (Continue) gets it when the handler
  // first asks for the body, as in HTTP/1; never after the final response has begun.
  void continue_if_expected() {
    auto expect = head_.header("expect");
    if (!expect || !detail::iequals(*expect, "100-continue") || st_.body_ended || st_.closed) return;
    if (st_.response_started) return;
    static constexpr std::string_view name = ":status", value = "100";
    nghttp2_nv nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                  reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                  NGHTTP2_NV_FLAG_NONE};
    nghttp2_submit_headers(c_.session(), NGHTTP2_FLAG_NONE, st_.id, nullptr, &nv, 1, nullptr);
    c_.wake();
  }

  connection& c_;
  stream& st_;
  const request_head& head_;
  std::uint64_t read_ = 0;
  bool started_ = false;
  bool lent_ = false;
};

// The response as nghttp2 frames it: HEADERS from status and fields, DATA from the data
// provider.
class stream_sink final : public detail::response_sink {
 public:
  stream_sink(connection& c, stream& st, bool head_only) : c_(c), st_(st), head_only_(head_only) {}

  void send_head(const response& res) override {
    streamed_ = true;
    body_ = !head_only_ && status_allows_body(res.status);
    submit(res, std::nullopt, body_);
  }

  void send_piece(std::string_view data) override {
    if (!body_ || data.empty()) return;
    wait_for_room();
    st_.out.append(data);
    c_.resume(st_);
  }

  void flush() override { c_.wake(); }

  /// After the handler: the whole response, or the end of a streamed one. Throws
  /// client_gone.
  void finish(response& res) {
    if (streamed_) {
      if (res.used_writer()) send_piece(res.writer_body());
      st_.out_eof = true;
      c_.resume(st_);
      return;
    }
    bool allowed = status_allows_body(res.status);
    if (const file_range* file = res.used_writer() ? nullptr : res.body.file()) {
      body_ = allowed && !head_only_ && file->length > 0;
      submit(res, allowed ? std::optional(file->length) : std::nullopt, body_);
      if (body_) send_file(*file);
      st_.out_eof = true;
      c_.resume(st_);
      return;
    }
    std::string_view body = res.used_writer() ? res.writer_body() : res.body.view();
    body_ = allowed && !head_only_ && !body.empty();
    // A small body is copied so that the fiber can leave at once; a large one is lent,
    // and the fiber waits until nghttp2 has framed it (wait_sent).
    if (body_ && body.size() <= out_high_water)
      st_.out.append(body);
    else if (body_)
      st_.out_borrowed = body;
    st_.out_eof = true;
    submit(res, allowed ? std::optional<std::uint64_t>(body.size()) : std::nullopt, body_);
  }

  /// Waits while nghttp2 frames a body borrowed from the response (which dies with the
  /// handler's frame), at most timeouts.write without progress; the stream is then reset
  /// with CANCEL. Owned bytes go out after the fiber has left (connection::sweep).
  void wait_sent() {
    const auto timeout = c_.state().config.timeouts.write;
    deadline until = after(timeout);
    while (!st_.out_borrowed.empty() && !st_.closed && !st_.reset_sent) {
      auto before = st_.out_framed;
      try {
        with_deadline(until, [&] { st_.out_progress.wait(); });
      } catch (const timeout_error&) {
        if (st_.out_framed == before) {
          reset(NGHTTP2_CANCEL);
          return;
        }
      }
      if (st_.out_framed != before) until = after(timeout);
    }
  }

  void reset(std::uint32_t code) { c_.reset_stream(st_, code); }

 private:
  void wait_for_room() {
    const auto timeout = c_.state().config.timeouts.write;
    deadline until = after(timeout);
    while (st_.out.size() - st_.out_offset >= out_high_water && !st_.closed) {
      auto before = st_.out_framed;
      try {
        with_deadline(until, [&] { st_.out_progress.wait(); });
      } catch (const timeout_error&) {
        throw client_gone("the client stopped reading the stream");
      }
      if (st_.out_framed != before) until = after(timeout);
    }
    if (st_.closed) throw client_gone("the client reset the stream");
  }

  // A file body, read in pieces into stream::out. A scratch buffer takes each read:
  // while read_at waits, the connection's fiber may take bytes out of stream::out.
  void send_file(const file_range& file) {
    constexpr std::size_t piece = 16 * 1024;
    std::string scratch(piece, '\0');
    for (std::uint64_t done = 0; done < file.length;) {
      wait_for_room();
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(piece, file.length - done));
      auto n = reactor::read_at(file.file->get(), std::as_writable_bytes(std::span(scratch.data(), want)),
                                file.offset + done);
      if (!n || *n == 0) {
        log::warn("a file shrank or failed while it was sent: resetting the HTTP/2 stream short of the ",
                  file.length, " bytes announced");
        throw client_gone("file body not sent");
      }
      st_.out.append(scratch.data(), *n);
      done += *n;
      c_.resume(st_);
    }
  }

  void submit(const response& res, std::optional<std::uint64_t> length, bool with_body) {
    if (st_.closed) throw client_gone("the client reset the stream");
    const auto& cfg = c_.state().config;
    std::pmr::vector<nghttp2_nv> nv(&st_.arena);
    nv.reserve(res.headers().size() + 4);
    auto add = [&nv](std::string_view name, std::string_view value) {
      nv.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE});
    };
    unsigned code = res.status >= 100 && res.status <= 999 ? res.status : 500;
    char status[3] = {static_cast<char>('0' + code / 100), static_cast<char>('0' + code / 10 % 10),
                      static_cast<char>('0' + code % 10)};
    add(":status", {status, 3});
    if (!cfg.server_name.empty()) add("server", cfg.server_name);
    add("date", detail::http_date());
    for (const auto& f : res.headers()) {
      if (dropped_field(f.name)) continue;
      char* lower = static_cast<char*>(st_.arena.allocate(f.name.size(), 1));
      std::transform(f.name.begin(), f.name.end(), lower, [](char ch) { return detail::ascii_lower(ch); });
      add({lower, f.name.size()}, f.value);
    }
    char digits[24];
    if (length) {
      auto end = std::to_chars(digits, digits + sizeof digits, *length).ptr;
      add("content-length", {digits, static_cast<std::size_t>(end - digits)});
    }
    nghttp2_data_provider provider{};
    provider.source.ptr = &st_;
    provider.read_callback = read_response_body;
    // nghttp2 copies the fields (NGHTTP2_NV_FLAG_NONE): the storage above may go.
    st_.response_started = true;
    int rv = nghttp2_submit_response(c_.session(), st_.id, nv.data(), nv.size(), with_body ? &provider : nullptr);
    if (rv != 0) throw client_gone(std::string("HTTP/2 response not sent: ") + nghttp2_strerror(rv));
    c_.wake();
  }

  connection& c_;
  stream& st_;
  bool head_only_;
  bool streamed_ = false;
  bool body_ = true;
};

void answer_plain(response& res, unsigned status) {
  res.status = status;
  res.content_type("text/plain");
  res.body = reason_phrase(status);
}

}  // namespace

void connection::run_stream(stream& st) {
  if (st.closed) return;  // reset before its fiber ever ran (Rapid Reset): no work at all
  auto started = clock::now();
  const auto& cfg = state_.config;
  request_head head;
  bool head_ok = make_request_head(st, head);
  stream_body body(*this, st, head);
  request req(head, st.arena, &body, cfg.limits.max_query_params);
  detail::request_access::set_app(req, app_);
  if (remote_) detail::request_access::set_remote_address(req, *remote_);
  stream_sink sink(*this, st, head.method == method::head);
  response res(st.arena, sink, cfg.writer_buffer);

  bool answered = true;
  if (st.headers_too_large) {
    answer_plain(res, 431);
  } else if (!head_ok) {
    answer_plain(res, 400);
  } else {
    st.in_handler = true;
    struct leave {
      stream& s;
      ~leave() { s.in_handler = false; }
    } guard{st};
    answered = detail::run_exchange(state_.routes, cfg, req, res).end == detail::exchange_end::answered;
  }
  try {
    if (answered)
      sink.finish(res);
    else if (!st.closed)
      sink.reset(NGHTTP2_INTERNAL_ERROR);
  } catch (const client_gone&) {
    answered = false;
    if (!st.closed && !st.reset_sent) sink.reset(NGHTTP2_CANCEL);
  }
  stats_.count_request(res.status, clock::now() - started);
  if (answered) sink.wait_sent();
}

}  // namespace dusty::http::h2
