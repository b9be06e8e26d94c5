#pragma once
// response: what a handler fills in. Set `status`, `body` and headers and return; the
// server frames and sends it (Content-Length, keep-alive, HEAD without a body). Or
// stream: chunk() sends a chunked body piece by piece, writer() buffers and switches to
// chunked when it outgrows its buffer, start_event_stream() begins Server-Sent Events.
//
//   res.status = 201;
//   res.header("Location", "/users/42");
//   res.json({{"id", 42}});
//
// A response belongs to its connection's fiber. Calls that send (chunk, writer flushes,
// event_stream) suspend; if the client has gone they throw client_gone, which the
// server treats as the quiet end of the exchange.
#include <dusty/core/arena.hpp>
#include <dusty/core/file_descriptor.hpp>
#include <dusty/http/fields.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dusty::http {

class response;
struct set_cookie;  // <dusty/http/codec/cookie.hpp>
struct server_config;
}  // namespace dusty::http
namespace dusty::net {
class buffered_stream;
}  // namespace dusty::net
namespace dusty::http {

/// Thrown by sending calls when the client is gone (reset, closed, or a write timed out).
class client_gone : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
struct connection_control;

/// Where a response goes: a connection, or a test capture.
class response_sink {
 public:
  virtual ~response_sink() = default;
  /// Sends the status line and headers of a streamed response: the body follows in
  /// pieces of unknown total length (chunked in HTTP/1.1, until close in HTTP/1.0). A
  /// buffered response never comes here: the protocol frames it after the exchange.
  virtual void send_head(const response& res) = 0;
  /// Sends one piece of a streamed body.
  virtual void send_piece(std::string_view data) = 0;
  /// Pushes buffered bytes to the client now.
  virtual void flush() = 0;
  /// Hands the connection to another protocol (a WebSocket upgrade): sends `res`'s status
  /// line and headers with no body framing, flushes, and returns the connection's stream
  /// and config; the connection then writes nothing more of its own. Default (no
  /// connection to give: http::testing, HTTP/2): a null stream.
  struct taken_connection {
    net::buffered_stream* io = nullptr;
    const server_config* config = nullptr;
    /// The connection's shutdown flags (its on_stop hook), or null.
    connection_control* control = nullptr;
  };
  virtual taken_connection take_over(const response& res) {
    (void)res;
    return {};
  }
};
}  // namespace detail

/// A byte range of an open file, as a response body: sent from the page cache to the
/// socket without passing through user memory where the connection allows (sendfile,
/// splice; see net::stream::send_file). Shared, so that a cache of open files and the
/// responses in flight can hold the same descriptor. If the file shrinks while it is
/// sent, the connection is closed: a client never gets fewer bytes than announced
/// without knowing it.
struct file_range {
  std::shared_ptr<const dusty::file_descriptor> file;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

/// A response body that either borrows (string literals, views of long-lived data), owns
/// (std::string) or shares (share()) its bytes, or names a range of an open file
/// (file_range). Assigning a std::string lvalue copies it.
class response_body {
 public:
  response_body& operator=(std::string_view v) noexcept {
    view_ = v;
    owned_.clear();
    owner_.reset();
    file_.reset();
    return *this;
  }
  response_body& operator=(file_range f) noexcept {
    *this = std::string_view();
    file_ = std::move(f);
    return *this;
  }
  response_body& operator=(const char* v) noexcept { return *this = std::string_view(v); }
  response_body& operator=(const std::string& s) { return *this = std::string(s); }
  response_body& operator=(std::string&& s) noexcept {
    owned_ = std::move(s);
    view_ = owned_;
    owner_.reset();
    file_.reset();
    return *this;
  }
  /// Borrows `bytes`, which `owner` keeps alive for as long as the body needs them: how a
  /// cache hands out what it holds without a copy, even if it drops the entry meanwhile.
  void share(std::shared_ptr<const void> owner, std::string_view bytes) noexcept {
    *this = bytes;
    owner_ = std::move(owner);
  }
  /// The bytes in memory; empty for a file body.
  std::string_view view() const noexcept { return view_; }
  operator std::string_view() const noexcept { return view_; }
  /// The file range, for a file body; null otherwise.
  const file_range* file() const noexcept { return file_ ? &*file_ : nullptr; }
  /// Bytes to send, in memory or from the file.
  std::uint64_t size() const noexcept { return file_ ? file_->length : view_.size(); }
  bool empty() const noexcept { return size() == 0; }
  friend bool operator==(const response_body& b, std::string_view s) noexcept { return b.view_ == s; }

 private:
  std::string_view view_;
  std::string owned_;
  std::shared_ptr<const void> owner_;
  std::optional<file_range> file_;
};

/// One Server-Sent Event. Empty fields are omitted; `data` may span lines.
struct sse_event {
  std::string_view data;
  std::string_view event;  ///< "event:" — the type; empty means "message".
  std::string_view id;     ///< "id:" — what the browser sends back as Last-Event-ID.
  std::optional<std::chrono::milliseconds> retry;  ///< "retry:" — reconnection delay.
};

/// A Server-Sent Events stream (text/event-stream), from response::start_event_stream().
/// It lives as long as the handler's fiber: return from the handler to end it. Each call
/// sends at once; when the client has gone it throws client_gone.
class event_stream {
 public:
  explicit event_stream(detail::response_sink& sink) noexcept : sink_(&sink) {}
  void send(const sse_event& e);
  /// send({.data = data}).
  void send(std::string_view data) {
    sse_event e;
    e.data = data;
    send(e);
  }
  /// A comment line (": text"), the usual keep-alive for proxies and idle streams.
  void comment(std::string_view text = {});

 private:
  detail::response_sink* sink_;
  std::string scratch_;
};

/// A buffered body writer from response::writer(): collects the body in memory and, when
/// it grows past the server's writer buffer, sends what it has as a chunk and goes on
/// streaming (chunked).
class body_writer {
 public:
  body_writer(response& res, std::size_t limit) noexcept : res_(&res), limit_(limit) {}
  void write(std::string_view data);
  body_writer& operator<<(std::string_view data) {
    write(data);
    return *this;
  }
  /// Sends what is buffered now (switching to streaming if nothing was sent yet).
  void flush();

 private:
  friend class response;
  response* res_;
  std::size_t limit_;
  std::string buffer_;
};

class response {
 public:
  response(dusty::arena& arena, detail::response_sink& sink, std::size_t writer_limit) noexcept
      : arena_(&arena), sink_(&sink), origin_sink_(&sink), headers_(&arena), writer_limit_(writer_limit) {}
  response(const response&) = delete;
  response& operator=(const response&) = delete;

  /// The status code. Default: 200.
  unsigned status = 200;
  /// The body, unless the handler streams.
  response_body body;

  /// Adds a header field (both strings are copied). Fields the server manages —
  /// Content-Length, Transfer-Encoding, Connection, Date — are set by it; do not add them.
  /// Throws std::invalid_argument naming the field when the name is not a token or the
  /// value holds CR, LF or NUL (http::validate_field): input
  /// reflected into a header can never split the response. Unhandled, that is a 500.
  void header(std::string_view name, std::string_view value);
  /// The first header field called `name` set so far (ASCII case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const noexcept;
  std::span<const header_field> headers() const noexcept { return headers_; }
  /// Sets (replacing) Content-Type; validated as header() is.
  void content_type(std::string_view type);
  /// Removes every header field called `name` (ASCII case-insensitive) and returns how
  /// many there were. Meaningless once the head is sent.
  std::size_t remove_header(std::string_view name) noexcept;
  /// Appends a Set-Cookie field with `cookie.to_string()`, which throws
  /// std::invalid_argument for a name or value a cookie cannot hold.
  void set_cookie(const http::set_cookie& cookie);

  /// Serialises `value` as the body and sets Content-Type: application/json.
  void json(const nlohmann::json& value, unsigned status_code = 0);

  /// Sends `data` as the next piece of a streamed body; the first call sends the head.
  /// Suspends. Throws client_gone.
  void chunk(std::string_view data);
  /// The buffered writer (created on first use).
  body_writer& writer();
  /// Sends the head of a Server-Sent Events stream and returns the stream.
  event_stream start_event_stream();

  /// Forgets status, body, headers and writer (not possible once the head is sent).
  void reset() noexcept {
    status = 200;
    body = std::string_view();
    headers_.clear();
    writer_.reset();
    close_ = false;
  }

  /// Drops the body and whatever writer() buffered, keeping status and headers (not
  /// possible once the head is sent). The server calls it before the error handler, so a
  /// failed handler's half-built body never reaches the client.
  void clear_body() noexcept {
    body = std::string_view();
    writer_.reset();
  }

  /// Ask to close the connection after this response (sends Connection: close).
  void close_connection() noexcept { close_ = true; }
  bool closes_connection() const noexcept { return close_; }
  /// True once the head has been sent (the status and headers can no longer change).
  bool head_sent() const noexcept { return head_sent_; }
  /// True when the body is being streamed (chunk, writer past its buffer, events).
  bool streaming() const noexcept { return streaming_; }
  /// The writer's buffered bytes, if the writer was used and never streamed.
  std::string_view writer_body() const noexcept { return writer_ ? std::string_view(writer_->buffer_) : std::string_view(); }
  bool used_writer() const noexcept { return writer_.has_value(); }

  dusty::arena& arena() noexcept { return *arena_; }

  /// For a protocol that takes the connection over (WebSocket, after 101): sends the head
  /// now, through the connection's own sink (never an interposed one), and returns the
  /// connection's stream; the server sends nothing more on it and ends it when the handler
  /// returns. A null stream when there is no connection to take (http::testing); nothing
  /// is sent then. Suspends; throws client_gone.
  detail::response_sink::taken_connection take_over_connection() {
    auto taken = origin_sink_->take_over(*this);
    if (taken.io) head_sent_ = true;
    return taken;
  }

  /// For middleware that transforms streamed bodies (http::compress): from now on the
  /// head and the pieces of a streamed response (chunk, writer past its buffer, event
  /// streams) go to `sink`, which forwards them to the sink returned. Call it before the
  /// head is sent, and put the returned sink back (`interpose_sink(previous)`) before
  /// `sink` dies, also when next() throws. Two things bypass it: a buffered response
  /// (the server frames it after the middleware chain, from status, headers and body),
  /// and bytes writer() still holds when the handler returns from a streamed response,
  /// which the server sends to its own sink: a middleware that must see them calls
  /// writer().flush() while its sink is in place.
  detail::response_sink& interpose_sink(detail::response_sink& sink) noexcept {
    detail::response_sink& previous = *sink_;
    sink_ = &sink;
    return previous;
  }

 private:
  friend class body_writer;
  void start_streaming();

  dusty::arena* arena_;
  detail::response_sink* sink_;
  detail::response_sink* origin_sink_;
  std::pmr::vector<header_field> headers_;
  std::size_t writer_limit_;
  std::optional<body_writer> writer_;
  bool head_sent_ = false;
  bool streaming_ = false;
  bool close_ = false;
};

}  // namespace dusty::http
