#pragma once
// request: what a handler receives. A view over the parsed request head plus lazily
// computed parts: the query (parsed on first use), the body (read from the connection
// only when the handler asks, bounded by max_body_size) and a per-request arena.
//
// All string views returned here stay valid until the handler returns; copy what must
// outlive the request. A request belongs to its connection's fiber: use it there only.
#include <dusty/core/arena.hpp>
#include <dusty/http/method.hpp>
#include <dusty/http/codec/query.hpp>
#include <dusty/http/router.hpp>
#include <dusty/http/status_error.hpp>
#include <dusty/http/request_head.hpp>
#include <dusty/net/address.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dusty::http {

namespace detail {
struct request_access;
}  // namespace detail

/// Where a request body comes from: a protocol's connection or stream, or a test request.
class body_source {
 public:
  virtual ~body_source() = default;
  /// The next piece of the body (valid until the next call), or an empty view at its
  /// end. Throws status_error: 413 past max_body_size, 400 for a malformed chunked body,
  /// 408 when the client is too slow.
  virtual std::string_view read_some() = 0;
  /// The whole body's length when the protocol announced it (Content-Length).
  virtual std::optional<std::uint64_t> length() const noexcept { return std::nullopt; }
};

class request {
 public:
  /// A protocol (or the test helper) builds requests; handlers receive them.
  request(const request_head& head, dusty::arena& arena, body_source* body,
          std::size_t max_query_params) noexcept
      : head_(&head), arena_(&arena), body_source_(body), max_query_params_(max_query_params), query_(&arena) {}
  request(const request&) = delete;
  request& operator=(const request&) = delete;

  http::method method() const noexcept { return head_->method; }
  /// The method as sent ("GET", "PROPFIND").
  std::string_view method_name() const noexcept { return head_->method_token; }
  /// The request-target as sent, e.g. "/users/42?x=1".
  std::string_view target() const noexcept { return head_->target; }
  /// The path of the target, not percent-decoded: "/users/42".
  std::string_view path() const noexcept { return head_->path; }
  /// The raw query string, without '?'.
  std::string_view raw_query() const noexcept { return head_->query; }
  /// The protocol the request came on, as logs write it: "HTTP/1.1", "HTTP/1.0".
  std::string_view protocol() const noexcept { return head_->protocol; }

  /// A route parameter (":id" in "/users/:id"), raw; empty if the route has none of that name.
  std::string_view param(std::string_view name) const noexcept;
  /// What a suffix glob ("/static/*") matched.
  std::string_view glob() const noexcept { return glob_; }

  /// The first header field called `name` (ASCII case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const noexcept { return head_->header(name); }
  /// Every header field, in the order received.
  std::span<const header_field> headers() const noexcept { return head_->headers; }
  /// The value of the first cookie called `name` in the Cookie header field(s)
  /// (http::find_cookie), without surrounding double quotes; nullopt if none.
  std::optional<std::string_view> cookie(std::string_view name) const noexcept;

  /// The query parameters, percent-decoded, parsed on the first call and cached.
  /// Throws status_error(400) when there are more than max_query_params.
  const query_params& query();
  /// The first value of query parameter `key`.
  std::optional<std::string_view> query(std::string_view key) { return query().get(key); }

  /// The whole body, read from the connection on the first call (answering an
  /// `Expect: 100-continue` first) and cached; empty if there is none. Suspends.
  /// Throws status_error: 413 above max_body_size, 400 malformed, 408 too slow.
  std::string_view body();
  /// Streaming alternative for large uploads: the next piece of the body, or nullopt at
  /// its end. Do not mix with body().
  std::optional<std::string_view> read_body_some();

  /// The body parsed as JSON and converted to T (nlohmann::json conversions).
  /// Throws status_error(400) for malformed JSON or a value T cannot hold.
  template <class T = nlohmann::json>
  T json() {
    try {
      return nlohmann::json::parse(body()).template get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw status_error(400, std::string("invalid JSON body: ") + e.what());
    }
  }

  /// Memory for this request only; reset after the response is sent.
  dusty::arena& arena() noexcept { return *arena_; }

  /// The peer's address; unset for test requests.
  const std::optional<net::socket_address>& remote_address() const noexcept { return remote_; }

 private:
  friend struct detail::request_access;  // the server's side: route, app, peer

  const request_head* head_;
  dusty::arena* arena_;
  body_source* body_source_;
  std::size_t max_query_params_;
  std::span<const route_param> params_;
  std::string_view glob_;
  query_params query_;
  bool query_parsed_ = false;
  bool body_read_ = false;
  std::string_view body_;
  std::optional<net::socket_address> remote_;
  void* app_ = nullptr;
};

}  // namespace dusty::http
