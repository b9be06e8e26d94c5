#pragma once
// client_connection: one HTTP/1.1 connection seen from the client, the layer under
// http::client's pools and the load generator. It writes requests, reads responses in
// order, and knows whether the connection can carry another request.
//
//   auto c = http::client_connection::connect(addr, after(5s));   // TCP_NODELAY on
//   if (!c) fail(c.error());
//   for (int i = 0; i < 8; ++i)                                    // pipelined
//     c->write_request("GET", "/json", "127.0.0.1:8080", {}, "", d);  // buffered, not sent
//   c->flush(d);
//   for (int i = 0; i < 8; ++i) {
//     c->read_head(d);                      // 1xx skipped; c->head().status ...
//     for (auto p = c->read_body_some(d); p && !p->empty(); p = c->read_body_some(d)) use(*p);
//   }
//   bool again = c->reusable();            // keep-alive, bodies read to their end, no error
//
// Requests are written into the output buffer of a net::buffered_stream and sent only by
// flush() (or when they outgrow the buffer), so several can go out in one send. A
// request is either one write_request() call, or write_head(), write_field()...,
// end_head() and then its body: write_body() for a Content-Length body, write_chunk() and
// end_chunks() for a chunked one. Responses come back in request order; the connection
// remembers which requests were HEAD, because their answers have no body.
//
// Per request, nothing is allocated once the connection's buffers are warm: the head is
// parsed in place (head() views into the input buffer) and body pieces are views too.
//
// Errors (result codes; after any of them but invalid_header the connection is broken:
// reusable() is false and later reads fail with dusty::errc::closed):
//  - dusty::errc::eof: the server closed the connection before any byte of the response,
//    the usual sign of a stale keep-alive connection; also for a close in the middle of a
//    Content-Length or chunked body;
//  - http::errc::invalid_response: an unparsable head, a 101 nobody asked for, a close in
//    the middle of the head, bad chunked framing;
//  - http::errc::response_too_large: a head over config().max_head_size;
//  - http::errc::invalid_header: a request field name or value that cannot be sent
//    (CR, LF, NUL; nothing is written then and the connection stays usable);
//  - dusty::errc::timed_out: the call's deadline or the read gap (config().read_timeout)
//    passed;
//  - the stream's own codes (ECONNRESET, EPIPE, ...).
// Cancelling the calling fiber throws cancelled_error as usual, and breaks the connection.
//
// Threading: a connection belongs to the shard that created it. Reading and writing may
// be done by two fibers at once (one each); every other call from one fiber at a time.
// Calls that take a deadline may suspend; the others never do.
#include <dusty/http/client_config.hpp>
#include <dusty/http/h1/body_decoder.hpp>
#include <dusty/http/h1/response_parser.hpp>
#include <dusty/http/error.hpp>
#include <dusty/net/address.hpp>
#include <dusty/net/buffered_stream.hpp>
#include <dusty/net/connection.hpp>
#include <dusty/net/stream.hpp>

#include <dusty/core/reactor.hpp>
#include <dusty/core/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace dusty::http {

using h1::request_kind;
using h1::body_framing;
using h1::response_head;

struct client_connection_config {
  /// Longest response head (status line and fields); above it: response_too_large.
  /// Default: 64 KiB.
  std::size_t max_head_size = client_config{}.max_head_size;
  /// Most fields in a response head; above it: response_too_large. Default: 128.
  std::size_t max_headers = 128;
  /// Longest wait for the next bytes of a response, on top of each call's deadline;
  /// zero: no limit but the deadline. Default: 0.
  std::chrono::milliseconds read_timeout{0};
};

class client_connection {
 public:
  /// Connects to `to` (TCP_NODELAY on), waiting at most until `d`. Errors: those of
  /// net::connect (ECONNREFUSED, errc::timed_out, ...). Suspends.
  static result<client_connection> connect(const net::socket_address& to, deadline d,
                                           const client_connection_config& config = {});

  /// Speaks HTTP over `conn`, an open connected socket.
  explicit client_connection(net::connection conn, const client_connection_config& config = {});
  /// Speaks HTTP over any stream (TLS, a test double).
  explicit client_connection(std::unique_ptr<net::stream> stream, const client_connection_config& config = {});

  client_connection(client_connection&&) noexcept;
  client_connection& operator=(client_connection&&) noexcept;
  /// Closes the stream.
  ~client_connection();

  // ---- writing (buffered; flush() sends) ----

  /// One whole request: request line, Host, `fields`, then Content-Length and `body` when
  /// the body is not empty or the method is POST, PUT or PATCH. Checks every field first
  /// and writes nothing when one is invalid.
  result<void> write_request(std::string_view method, std::string_view target, std::string_view host,
                             std::span<const header_field> fields, std::string_view body, deadline d = no_deadline);

  /// A request already serialised (head and body), e.g. built once and sent many times.
  /// `kind` says whether it is a HEAD request. The bytes are not checked.
  result<void> write_raw(std::string_view request, request_kind kind, deadline d = no_deadline);

  /// Starts a request: the request line. `method` and `target` must be non-empty and free
  /// of spaces and control bytes (else invalid_header, nothing written).
  result<void> write_head(std::string_view method, std::string_view target, deadline d = no_deadline);
  /// One header field of the request being written.
  result<void> write_field(std::string_view name, std::string_view value, deadline d = no_deadline);
  /// Ends the request head (the empty line).
  result<void> end_head(deadline d = no_deadline);
  /// Body bytes, as they are (for a body announced with Content-Length).
  result<void> write_body(std::string_view data, deadline d = no_deadline);
  /// One chunk of a chunked body; empty `data` writes nothing.
  result<void> write_chunk(std::string_view data, deadline d = no_deadline);
  /// The last chunk and the (empty) trailer section.
  result<void> end_chunks(deadline d = no_deadline);
  /// Sends everything written so far.
  result<void> flush(deadline d = no_deadline);

  // ---- reading ----

  /// Reads the head of the next response, dropping interim (1xx) responses before it, and
  /// the unread rest of the previous body first, if any. Sends pending output first. Its
  /// fields are in head() until the first body call.
  result<void> read_head(deadline d = no_deadline);
  /// The last head read_head() read. Views into the input buffer: valid until the next
  /// read_body_some(), read_body(), skip_body() or read_head().
  const response_head& head() const noexcept { return parser_.head(); }

  /// The next body bytes, chunked framing removed: a view into the input buffer valid until
  /// the next call on this connection; empty once the body has ended.
  result<std::string_view> read_body_some(deadline d = no_deadline);
  /// Copies up to buf.size() body bytes into `buf`; 0 once the body has ended.
  result<std::size_t> read_body(std::span<char> buf, deadline d = no_deadline);
  /// Reads the rest of the body and drops it. Fails with response_too_large, leaving the
  /// connection broken, when more than `max` bytes are left.
  result<void> skip_body(deadline d = no_deadline, std::uint64_t max = UINT64_MAX);
  /// True once the current response's body has been read to its end (at once for a
  /// response without body).
  bool body_done() const noexcept { return state_ == state::idle; }
  /// Body bytes of the current response read so far.
  std::uint64_t body_read() const noexcept { return body_read_; }

  // ---- state ----

  /// Whether another request may be sent and answered here: no error so far, the last
  /// response allows keep-alive, and its body was read to the end.
  bool reusable() const noexcept { return !broken_ && keep_alive_ && state_ == state::idle; }
  /// Requests written whose responses have not been read completely yet.
  std::size_t in_flight() const noexcept { return kinds_count_; }
  /// Whether any byte of the response now expected has arrived (false until then, and
  /// after a read_head() that failed with eof before the first byte).
  bool response_started() const noexcept { return started_; }
  /// For a connection kept idle: true when the server has closed it or sent bytes that
  /// belong to no request (both mean it cannot be reused). Never suspends; false when the
  /// stream gives no way to look.
  bool peer_closed() const noexcept;
  /// Marks the connection unusable (for errors found by the caller).
  void set_broken() noexcept { broken_ = true; }
  bool broken() const noexcept { return broken_; }

  /// The stream below. Reading or writing it directly breaks the HTTP framing.
  net::stream& stream() noexcept { return *stream_; }
  const client_connection_config& config() const noexcept { return config_; }
  /// Changes config().read_timeout, e.g. per request.
  void set_read_timeout(std::chrono::milliseconds gap) noexcept { config_.read_timeout = gap; }
  /// Closes the stream; every later call fails with errc::closed.
  void close() noexcept;

 private:
  enum class state : std::uint8_t { idle, body, until_close };

  result<void> fill(deadline d);
  result<void> put(std::string_view s, deadline d);
  void push_kind(request_kind k);
  request_kind pop_kind() noexcept;
  void settle() noexcept;  // applies a deferred consume
  result<void> finish_body() noexcept;

  client_connection_config config_;
  std::unique_ptr<net::stream> stream_;
  net::buffered_stream io_;
  h1::response_parser parser_;
  h1::body_decoder decoder_;
  state state_ = state::idle;
  bool broken_ = false;
  bool keep_alive_ = true;
  bool started_ = false;
  bool closed_ = false;
  std::size_t pending_consume_ = 0; // bytes handed out as a view, consumed at the next call
  std::uint64_t body_read_ = 0;
  // Ring of the kinds of requests in flight (power-of-two capacity, grows when full).
  std::vector<request_kind> kinds_;
  std::size_t kinds_head_ = 0;
  std::size_t kinds_count_ = 0;
};

}  // namespace dusty::http
