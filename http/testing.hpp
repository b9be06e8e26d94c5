#pragma once
// dusty::http::testing: call handlers, middleware and whole route tables with requests
// built in memory, and look at what they answered. No socket, no runtime, no framework:
// results are plain values, so the helpers work with GoogleTest, Catch2, doctest or
// plain asserts (like http.zig's httpz.testing, without its expect* functions).
//
//   namespace ht = dusty::http::testing;   // `testing` alone clashes with GoogleTest's
//
//   // A handler on its own: parameters come from the builder.
//   auto r = ht::request_builder()
//                .method(http::method::post)
//                .path("/users/7")
//                .param("id", "7")
//                .query("verbose", "1")
//                .header("Authorization", "Bearer t0k3n")
//                .json({{"name", "Ada"}})
//                .call(update_user);
//   EXPECT_EQ(r.status(), 200);
//   EXPECT_EQ(r.header("Content-Type"), "application/json");
//   EXPECT_EQ(r.json()["name"], "Ada");
//
//   // A route table with its middleware: parameters come from the real router.
//   ht::server<my_app> srv;                 // a socketless twin of http::server<my_app>
//   install_routes(srv);                    // template <class S> void install_routes(S&)
//   auto g = ht::request_builder().path("/users/7").call(srv);
//
//   // Streams: the pieces as sent, their concatenation, and Server-Sent Events parsed.
//   auto s = ht::request_builder().path("/events").disconnect_after(3).call(srv);
//   EXPECT_EQ(s.events()[0].data, "tick 0");
//
// What the server does around the handler is reproduced where a handler can notice it:
// the request head looks like a parsed one (method, target, path, query, version,
// headers, keep-alive, body framing), the body is decoded by the server's own decoder
// under max_body_size (413 and all), and through a server the global middleware,
// routing (404, 405 with Allow, HEAD on GET routes), route middleware and the error
// handler run as on a connection. What belongs to the wire is not: the captured response
// has the status, headers, and body the handler produced, without Content-Length, Date,
// Server, Connection or chunked framing, and a HEAD response keeps its body.
//
// Exceptions. request_builder::call(handler) lets exceptions from the handler reach the
// caller (EXPECT_THROW works); there is no error handler in play. The one it absorbs is
// the client_gone raised by a disconnect the test asked for (disconnect_after). A call
// through a server behaves like a connection: an exception becomes the server's error
// handler's answer (500 or a status_error's status by default; 503 for a timeout_error)
// and captured_response::exception() holds it; any client_gone is the quiet end of the
// exchange; only cancelled_error (the calling fiber was cancelled) propagates.
//
// Threading. The handler runs on the calling thread, synchronously. Handlers that only
// read the request and fill the response (chunk and event streams included: the capture
// never blocks) need nothing else; handlers that suspend (sleep_for, I/O, cross-core
// calls) must be called from a fiber of a running runtime. No handler deadline is applied.
#include <dusty/http/detail/dispatcher.hpp>
#include <dusty/http/handler.hpp>
#include <dusty/http/server.hpp>
#include <dusty/http/server_config.hpp>
#include <dusty/net/address.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace dusty::http::detail {
// Built before route_scope in testing::server, which keeps a pointer to it.
struct dispatcher_owner {
  explicit dispatcher_owner(std::size_t max_params) : table_(max_params) {}
  dispatcher table_;
};
}  // namespace dusty::http::detail

namespace dusty::http::testing {

class request_builder;

/// One header field of a captured response.
struct field {
  std::string name;
  std::string value;
  friend bool operator==(const field&, const field&) = default;
};

/// One Server-Sent Event, parsed from a streamed body the way a browser's EventSource
/// does (WHATWG HTML, "Parsing an event stream"), except that an event without data
/// lines is reported too.
struct received_event {
  std::string type;  ///< "event:"; empty when the stream did not name one ("message").
  std::string id;    ///< "id:"; empty when absent.
  std::string data;  ///< The "data:" lines joined with '\n'.
  std::optional<std::chrono::milliseconds> retry;  ///< "retry:", when all digits.
  friend bool operator==(const received_event&, const received_event&) = default;
};

/// What a handler answered: a value that owns all its data and outlives the call.
class captured_response {
 public:
  /// The status: of the head, for a streamed response; else as the handler left it.
  unsigned status() const noexcept { return status_; }
  /// The first header field called `name` (ASCII case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const noexcept;
  /// Every value of the fields called `name`, in order (Vary, Set-Cookie, ...).
  std::vector<std::string_view> header_values(std::string_view name) const;
  /// Every header field, in the order set. For a streamed response, those sent with the
  /// head; fields added after it never reach a client and are not here.
  const std::vector<field>& headers() const noexcept { return headers_; }

  /// The body: res.body, or what res.writer() collected, or for a streamed response the
  /// concatenation of every piece sent.
  std::string_view body() const noexcept { return body_; }
  /// The body parsed as JSON and converted to T. Throws nlohmann::json::exception.
  template <class T = nlohmann::json>
  T json() const {
    return nlohmann::json::parse(body_).template get<T>();
  }

  /// True when the body was streamed (chunk(), a writer past its buffer, event streams).
  bool streamed() const noexcept { return streamed_; }
  /// The pieces of a streamed body in the order sent: one per chunk() call, per writer
  /// flush, per event or comment. Empty for a response that was not streamed.
  const std::vector<std::string>& pieces() const noexcept { return pieces_; }
  /// The Server-Sent Events of a streamed body, in order. An event still missing its
  /// terminating blank line (the handler stopped mid-event) is not included.
  std::vector<received_event> events() const;
  /// The comment lines (": text") of a Server-Sent Events stream, text without ": ".
  std::vector<std::string> comments() const;

  /// The exception that escaped the handler or middleware in a call through a server
  /// (direct handler calls let it propagate instead); null if none. A client_gone is
  /// not an error here and shows in client_gone() only.
  std::exception_ptr exception() const noexcept { return exception_; }
  /// True when a connection would have been dropped without a complete answer: the
  /// handler failed after the head of a streamed response was sent, or the error
  /// handler itself threw.
  bool aborted() const noexcept { return aborted_; }
  /// True when the exchange ended at the simulated disconnect (disconnect_after).
  bool client_gone() const noexcept { return client_gone_; }

  /// Status, headers and body as text, for failure messages.
  friend std::ostream& operator<<(std::ostream& os, const captured_response& r);

 private:
  friend class request_builder;
  unsigned status_ = 200;
  std::vector<field> headers_;
  std::string body_;
  std::vector<std::string> pieces_;
  bool streamed_ = false;
  bool aborted_ = false;
  bool client_gone_ = false;
  std::exception_ptr exception_;
};

/// A route table with global middleware, not-found and error handlers: http::server<App>
/// without sockets, shards or start(). Register on it with the same calls (get, post, ...,
/// group, use, not_found, error_handler), e.g. from a function template shared with the
/// real server, then pass it to request_builder::call. It holds one App, built from the
/// constructor's arguments, which App-taking handlers receive.
///
///   ht::server<counter_app> srv({}, 100);           // server_config, then App's arguments
///   srv.use(http::cors());
///   srv.get("/hits", [](counter_app& a, http::request&, http::response& res) { ... });
///
/// The limits of its server_config (max_params, max_query_params, max_body_size,
/// writer_buffer) apply to requests called through it.
template <class App = void>
class server : private http::detail::dispatcher_owner, public route_scope<App> {
  using app_type = std::conditional_t<std::is_void_v<App>, http::detail::no_app, App>;

 public:
  server() : server(server_config{}) {}
  template <class... A>
  explicit server(server_config config, A&&... app_args)
      : dispatcher_owner(config.limits.max_params),
        route_scope<App>(table_, ""),
        config_(std::move(config)),
        app_(std::forward<A>(app_args)...) {}
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Middleware for every request, routed or not (as http::server::use).
  void use(middleware mw) { table_.use(std::move(mw)); }
  /// The handler for paths no route matches. Default: 404 "Not Found".
  void not_found(handler h) { table_.set_not_found(std::move(h)); }
  /// The handler for exceptions escaping middleware and handlers. Default: as http::server.
  void error_handler(http::error_handler h) { table_.set_error_handler(std::move(h)); }

  /// The App handlers receive.
  app_type& app() noexcept { return app_; }
  const server_config& config() const noexcept { return config_; }

 private:
  friend class request_builder;
  server_config config_;
  app_type app_;
};

/// Builds a request and calls a handler or a server with it. Setters return *this for
/// chaining; keep the builder by value (`auto t = request_builder()...;`). A builder can
/// be called any number of times; each call builds a fresh request.
///
/// Defaults: GET "/", HTTP/1.1, no headers, no body, no remote address.
class request_builder {
 public:
  /// `config` supplies the limits of direct handler calls (max_query_params,
  /// max_body_size, writer_buffer); calls through a server use the server's.
  explicit request_builder(server_config config = {}) : config_(std::move(config)) {}

  /// The method. Throws std::invalid_argument for method::other (use the token form).
  request_builder& method(http::method m);
  /// The method as a token ("PROPFIND"), for methods without an enumerator.
  request_builder& method(std::string_view token);
  /// The request-target in origin form: a path, optionally with "?query". Replaces the
  /// query set so far. Throws std::invalid_argument unless it starts with '/' (or is "*").
  request_builder& path(std::string_view target);
  /// Appends key=value to the query, both percent-encoded here (the handler sees them
  /// decoded through req.query()).
  request_builder& query(std::string_view key, std::string_view value);
  /// A route parameter, for direct handler calls; a call through a server ignores it
  /// and lets its router capture the parameters from the path.
  request_builder& param(std::string_view name, std::string_view value);
  /// What a suffix glob matched (req.glob()), for direct handler calls only.
  request_builder& glob(std::string_view rest);
  /// Adds a header field (several with one name are kept, as on the wire). The framing
  /// fields (Content-Length, Transfer-Encoding) follow from body() and chunked() and
  /// are refused here, as are names or values with CR, LF or NUL (std::invalid_argument).
  request_builder& header(std::string_view name, std::string_view value);
  /// The body, delivered to the handler in one piece; sets Content-Length.
  request_builder& body(std::string_view data);
  /// The body, delivered to the handler as these pieces (req.read_body_some() returns
  /// them one by one, empty pieces skipped); req.body() sees their concatenation.
  request_builder& body_pieces(std::vector<std::string> pieces);
  /// `value` serialised as the body, and Content-Type: application/json (replacing one
  /// set before).
  request_builder& json(const nlohmann::json& value);
  /// Sends the body with Transfer-Encoding: chunked (each piece a chunk) instead of
  /// Content-Length. HTTP/1.1 only.
  request_builder& chunked(bool on = true);
  /// 10 or 11 (HTTP/1.0 or HTTP/1.1). Throws std::invalid_argument otherwise.
  request_builder& version(unsigned v);
  /// The peer's address (req.remote_address()).
  request_builder& remote_address(const net::socket_address& address);
  /// Simulates a client that goes away after receiving `pieces` pieces of a streamed
  /// body: the next send throws client_gone in the handler, as on a dead connection.
  /// Lets tests end handlers that stream until the client leaves.
  request_builder& disconnect_after(std::size_t pieces);

  /// Calls `h` with the request (params and glob from the builder). Exceptions from the
  /// handler propagate, except client_gone caused by disconnect_after.
  captured_response call(const handler& h) const { return run(config_, nullptr, &h, nullptr); }

  /// Calls a handler that takes the application context, with `app`.
  template <class App, class F>
    requires std::invocable<F&, App&, request&, response&>
  captured_response call(App& app, F fn) const {
    handler h = [&app, &fn](request& req, response& res) { fn(app, req, res); };
    return run(config_, &app, &h, nullptr);
  }

  /// Runs the request through `srv` as a connection would: global middleware, routing,
  /// route middleware, handler, and the error handler for exceptions.
  template <class App>
  captured_response call(server<App>& srv) const {
    return run(srv.config_, &srv.app_, nullptr, &srv.table_);
  }

 private:
  struct param_entry {
    std::string name;
    std::string value;
  };
  struct exchange;  // one call's request storage, body source and capture

  captured_response run(const server_config& config, void* app, const handler* direct,
                        const http::detail::dispatcher* routes) const;

  server_config config_;
  http::method method_ = http::method::get;
  std::string method_token_ = "GET";
  std::string path_ = "/";
  std::string query_;
  std::vector<param_entry> params_;
  std::string glob_;
  std::vector<field> headers_;
  std::vector<std::string> body_;
  bool has_body_ = false;
  bool chunked_ = false;
  unsigned version_ = 11;
  std::optional<net::socket_address> remote_;
  std::optional<std::size_t> disconnect_after_;
};

}  // namespace dusty::http::testing
