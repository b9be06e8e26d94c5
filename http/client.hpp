#pragma once
// client: HTTP/1.1 requests from any fiber, over connection pools that belong to the
// calling shard (share-nothing, as the server's connections are).
//
//   http::client c;                                   // inside a running runtime
//   auto r = c.fetch("http://127.0.0.1:8080/json");   // throws client_error on failure
//   if (r.status() == http::status::ok) use(r.json());
//
//   auto up = c.post("http://api.local/items", {.json = nlohmann::json{{"name", "x"}}});
//   auto big = c.get("http://files.local/big");        // stream it instead of body():
//   std::array<char, 16384> buf;
//   while (auto n = big.read_some(buf)) sink(std::string_view(buf.data(), n));
//
// Pools. Each shard keeps, per (scheme, host, port), the idle keep-alive connections and
// a cap on open ones; fibers over the cap wait in FIFO order. A pooled connection idle for
// longer than idle_timeout is closed instead of reused. A reused connection the server
// had already closed is retried once on a fresh connection when nothing of the request
// was sent, or when the method is idempotent; a POST is never sent twice. A connection
// that saw an error, or whose response body was not read to its end, is closed, never
// reused.
//
// Timeouts, all by fiber cancellation: connect_timeout per connection attempt,
// request_timeout for the whole fetch (redirects, retries and reading the body
// included), read_timeout for any gap while waiting for bytes.
//
// HTTPS: https:// URLs go over TLS (net/tls) with the settings of config.tls or
// fetch_options::tls: the server's certificate is verified against the system trust store
// (or ca_file) and the URL's host, SNI and ALPN "http/1.1" are sent, and each pool keeps
// the sessions its server issues so that its next connection resumes instead of doing a
// full handshake. The handshake is part of connecting (connect_timeout bounds it). TLS
// failures name their cause: "certificate verify failed for 127.0.0.1:8443: self-signed
// certificate" (net::errc::tls_certificate_invalid), "host name mismatch: certificate is
// for a.test, not b.test" (tls_host_name_mismatch), "TLS handshake with 127.0.0.1:8443
// failed: ..." (tls_handshake_failed). A server that closes without close_notify before a
// body with a length (or a chunked one) has ended is an error (tls_truncated), never a
// short body.
//
// Errors are thrown as client_error, a std::system_error whose what() says what happened
// ("connect refused: 127.0.0.1:9", "timeout after 2s reading headers from
// 127.0.0.1:8080", "response larger than 8 MiB") and whose code() is comparable:
// dusty::errc::timed_out, net::errc::host_not_found, std::errc::connection_refused,
// http::errc::invalid_url / unsupported_scheme / invalid_response / response_too_large /
// too_many_redirects / invalid_content_encoding. Bad URLs and unsupported schemes fail
// before any I/O. Cancelling the calling fiber throws cancelled_error as usual.
//
// Threading: construct and destroy a client inside a running runtime, with no fetch in
// flight. fetch() may be called from a fiber of any shard; each shard uses only its own
// pools and (when cookies are on) its own cookie jar. A client_response belongs to the
// shard that fetched it.
#include <dusty/http/client_config.hpp>
#include <dusty/http/codec/cookie_jar.hpp>
#include <dusty/http/error.hpp>
#include <dusty/http/method.hpp>
#include <dusty/http/status.hpp>
#include <dusty/http/codec/url.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace dusty::http {

namespace detail {
class client_shard;
class client_exchange;
}  // namespace detail

/// A failed fetch: code() says what kind, what() says what happened and where.
class client_error : public std::system_error {
 public:
  client_error(std::error_code ec, const std::string& what) : std::system_error(ec, what), what_(what) {}
  /// The message as given, without the ": <code message>" std::system_error appends.
  const char* what() const noexcept override { return what_.what(); }

 private:
  std::runtime_error what_;  // a reference-counted string: copying never throws
};

/// A request body produced while it is sent (with chunked transfer coding). Each call
/// fills `buf` with up to buf.size() bytes and returns how many; 0 ends the body. It may
/// suspend (read a file, wait on a channel). Such a body cannot be sent twice, so a
/// request carrying one is neither retried nor redirected with 307/308.
using client_body_source = std::function<std::size_t(std::span<char> buf)>;

/// Per-request settings. Unset optionals take the client_config value.
struct fetch_options {
  http::method method = http::method::get;
  /// The method token sent when `method` is method::other (e.g. "PROPFIND").
  std::string method_token;
  /// Extra header fields, sent as given after the client's own (Host, User-Agent,
  /// Accept-Encoding, Content-Length/Transfer-Encoding, Cookie). A field given here with
  /// the name of one of those replaces it (Host excepted).
  std::vector<std::pair<std::string, std::string>> headers;
  /// At most one of body, json and stream. `json` sets Content-Type: application/json.
  std::optional<std::string> body;
  std::optional<nlohmann::json> json;
  client_body_source stream;

  std::optional<std::chrono::milliseconds> connect_timeout;
  std::optional<std::chrono::milliseconds> request_timeout;
  std::optional<std::chrono::milliseconds> read_timeout;
  /// Redirects followed at most; 0 returns the 3xx answer itself.
  std::optional<unsigned> max_redirects;
  std::optional<retry_policy> retry;
  std::optional<std::uint64_t> max_response_size;
  /// Ask for gzip/deflate and decode them. Off: no Accept-Encoding is added and the body
  /// is returned as it arrives.
  std::optional<bool> decompress;
  /// The jar to read and update; nullptr uses the client's own (when config.cookies).
  cookie_jar* cookies = nullptr;
  /// TLS settings for this request (https:// and redirects to it) instead of config.tls.
  /// Each distinct setting gets its own context, built once per client, and its own
  /// pools: a connection made with one setting never serves a request with another.
  std::optional<client_tls_config> tls;
};

/// A response: status and header fields at once, the body on demand. Holds its
/// connection until the body has been read to its end (then the connection goes back to
/// the pool) or the response is destroyed (then it is closed).
class client_response {
 public:
  client_response(client_response&&) noexcept;
  client_response& operator=(client_response&&) noexcept;
  ~client_response();

  http::status status() const noexcept { return status_; }
  unsigned status_code() const noexcept { return static_cast<unsigned>(status_); }
  std::string_view reason() const noexcept { return reason_; }
  /// 10 or 11.
  unsigned version() const noexcept { return version_; }
  /// Header fields as received, in order (names keep their case).
  const std::vector<std::pair<std::string, std::string>>& headers() const noexcept { return headers_; }
  /// The first field named `name` (ASCII case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const noexcept;
  /// The URL that answered: differs from the one asked for after redirects.
  const http::url& url() const noexcept { return url_; }
  /// Redirects followed to get here.
  unsigned redirects() const noexcept { return redirects_; }

  /// The whole body (decoded when the client decompresses), read on first call and kept.
  /// Throws client_error (response_too_large past max_response_size, timeouts, ...).
  const std::string& body();
  /// body() parsed as JSON; client_error(invalid_response) when it is not JSON.
  nlohmann::json json();
  /// Streams the body instead: up to buf.size() bytes, 0 once it has ended. Do not mix
  /// with body() after the first call.
  std::size_t read_some(std::span<char> buf);

 private:
  friend class client;
  client_response() = default;

  http::status status_ = http::status::ok;
  std::string reason_;
  unsigned version_ = 11;
  std::vector<std::pair<std::string, std::string>> headers_;
  http::url url_;
  unsigned redirects_ = 0;
  std::optional<std::string> body_;
  std::unique_ptr<detail::client_exchange> exchange_;  // the connection while the body is unread
};

class client {
 public:
  explicit client(client_config config = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Sends a request and returns once the response head has arrived (following
  /// redirects and retrying as configured). See the file comment for errors.
  client_response fetch(std::string_view url, fetch_options options = {});

  client_response get(std::string_view url, fetch_options options = {});
  client_response head(std::string_view url, fetch_options options = {});
  client_response post(std::string_view url, fetch_options options = {});
  client_response put(std::string_view url, fetch_options options = {});
  client_response patch(std::string_view url, fetch_options options = {});
  /// DELETE (named like method::delete_, since `delete` is a C++ keyword).
  client_response delete_(std::string_view url, fetch_options options = {});

  /// Counters of the calling shard's pools, for tests and monitoring.
  struct pool_stats {
    std::size_t open = 0;       ///< Connections open now (idle + in use).
    std::size_t idle = 0;       ///< Idle in the pools now.
    std::size_t waiting = 0;    ///< Fibers waiting for a connection now.
    std::uint64_t created = 0;  ///< Connections opened so far.
    std::uint64_t reused = 0;   ///< Requests sent on a pooled connection so far.
    std::uint64_t tls_handshakes = 0;  ///< TLS handshakes completed so far (https).
    std::uint64_t tls_resumed = 0;     ///< Of those, the ones that resumed a session.
  };
  pool_stats stats() const;
  /// Closes the calling shard's idle connections.
  void close_idle();

  const client_config& config() const noexcept { return config_; }

  /// The TLS context for `tls`, built on first use and then shared by every shard.
  /// Throws client_error (std::errc::invalid_argument) when a file cannot be used, with
  /// tls::config_error's message ("TLS CA file '/x.pem': No such file or directory").
  /// Blocks the calling thread while it reads the files (first use only). Internal, but
  /// public for the pools.
  std::shared_ptr<const net::tls::context> tls_context(const client_tls_config& tls);

 private:
  detail::client_shard& local();

  client_config config_;
  std::mutex tls_lock_;  // guards tls_contexts_ (shared by the shards)
  std::vector<std::pair<client_tls_config, std::shared_ptr<const net::tls::context>>> tls_contexts_;
  std::vector<std::unique_ptr<detail::client_shard>> shards_;  // indexed by shard id
};

}  // namespace dusty::http
