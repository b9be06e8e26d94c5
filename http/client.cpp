#include <dusty/http/client.hpp>

#include <dusty/http/codec/conditional.hpp>
#include <dusty/http/codec/content_coding.hpp>
#include <dusty/http/detail/ascii.hpp>
#include <dusty/http/client/errors.hpp>
#include <dusty/http/client/exchange.hpp>
#include <dusty/http/client/pool.hpp>
#include <dusty/net/error.hpp>
#include <dusty/http/codec/base64.hpp>
#include <dusty/http/codec/percent.hpp>
#include <dusty/http/fields.hpp>
#include <dusty/net/connect.hpp>
#include <dusty/net/tls/context.hpp>
#include <dusty/net/tls/stream.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/core/submit_to.hpp>

#include <algorithm>
#include <charconv>
#include <random>
#include <utility>

namespace dusty::http {
namespace {

using namespace std::chrono_literals;
using detail::fetch_context;
using detail::format_duration;
using detail::iequals;

constexpr std::uint64_t redirect_drain_limit = 64 * 1024;

// A failed attempt; `retryable` when the retry policy may send the request again
// (connection errors before any byte of the response).
class attempt_failure : public client_error {
 public:
  attempt_failure(const client_error& e, bool retryable) : client_error(e), retryable(retryable) {}
  bool retryable;
};

struct settings {
  std::chrono::milliseconds connect_timeout;
  std::chrono::milliseconds request_timeout;
  std::chrono::milliseconds read_timeout;
  unsigned max_redirects;
  retry_policy retry;
  std::uint64_t max_response_size;
  bool decompress;
  cookie_jar* jar;
  const client_tls_config* tls;
};

// The request as it is sent now; redirects change it.
struct request_plan {
  http::method method = http::method::get;
  std::string token;  // the method as sent
  std::string body;
  bool has_body = false;
  const client_body_source* stream = nullptr;
  bool stream_used = false;
  const char* content_type = nullptr;
  bool body_dropped = false;  // 301/302/303 turned it into a GET: drop the user's body fields
  bool drop_auth = false;     // redirected to another origin
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;

  bool idempotent() const noexcept {
    switch (method) {
      case http::method::get:
      case http::method::head:
      case http::method::put:
      case http::method::delete_:
      case http::method::options:
      case http::method::trace: return true;
      default: return false;
    }
  }
  // Whether it may go out twice.
  bool repeatable() const noexcept { return idempotent() && stream == nullptr; }

  bool has_user(std::string_view name) const noexcept {
    for (const auto& [k, v] : *headers) {
      if (iequals(k, name) && !skip_user(k)) return true;
    }
    return false;
  }
  bool skip_user(std::string_view name) const noexcept {
    if (iequals(name, "host")) return true;
    if (drop_auth && (iequals(name, "authorization") || iequals(name, "cookie"))) return true;
    return body_dropped && (iequals(name, "content-type") || iequals(name, "content-length") ||
                            iequals(name, "transfer-encoding") || iequals(name, "content-encoding"));
  }
};

// What one attempt produced: the head, copied, and the exchange while a body remains.
struct attempt_result {
  unsigned status = 0;
  std::string reason;
  unsigned version = 11;
  std::vector<std::pair<std::string, std::string>> headers;
  std::unique_ptr<detail::client_exchange> exchange;

  std::optional<std::string_view> header(std::string_view name) const noexcept {
    for (const auto& [k, v] : headers) {
      if (iequals(k, name)) return std::string_view(v);
    }
    return std::nullopt;
  }
  void abandon() {
    if (exchange) {
      exchange->abandon(redirect_drain_limit);
      exchange.reset();
    }
  }
};


// Retry-After: delay-seconds or an HTTP-date (RFC 9110 section 10.2.3).
std::optional<std::chrono::milliseconds> parse_retry_after(std::optional<std::string_view> value) {
  if (!value) return std::nullopt;
  auto v = detail::trim_ows(*value);
  std::uint64_t seconds = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec == std::errc() && end == v.data() + v.size()) {
    return std::chrono::milliseconds(std::min<std::uint64_t>(seconds, 86400) * 1000);
  }
  auto when = parse_http_date(v);  // IMF-fixdate, RFC 850 and asctime forms
  if (!when) return std::nullopt;
  auto delta = std::chrono::duration_cast<std::chrono::milliseconds>(*when - std::chrono::system_clock::now());
  return std::max(delta, std::chrono::milliseconds(0));
}

// Full jitter (see retry_policy), or Retry-After when it is longer; capped at max_delay.
std::chrono::milliseconds backoff(const retry_policy& p, unsigned n, std::optional<std::chrono::milliseconds> retry_after) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  auto cap = p.base_delay;
  for (unsigned i = 1; i < n && cap < p.max_delay; ++i) cap *= 2;
  cap = std::min(cap, p.max_delay);
  std::uniform_int_distribution<std::int64_t> pick(0, std::max<std::int64_t>(cap.count(), 0));
  std::chrono::milliseconds d(pick(rng));
  if (retry_after && *retry_after > d) d = std::min(*retry_after, p.max_delay);
  return d;
}

bool fits(std::chrono::milliseconds delay, const fetch_context& ctx) {
  return ctx.request_deadline == no_deadline || std::chrono::steady_clock::now() + delay < ctx.request_deadline;
}

bool is_connection_error(std::error_code ec) {
  return ec == dusty::errc::eof || ec == std::errc::connection_refused || ec == std::errc::connection_reset ||
         ec == std::errc::broken_pipe || ec == std::errc::connection_aborted || ec == std::errc::network_unreachable ||
         ec == std::errc::host_unreachable || ec == std::errc::not_connected || ec == net::errc::tls_truncated;
}

// The client_error for a failed TLS handshake with `peer`, naming its cause.
client_error handshake_error(std::error_code ec, std::string_view detail, const std::string& peer,
                             const settings& s) {
  if (ec == dusty::errc::timed_out) {
    return client_error(ec, "timeout after " + format_duration(s.connect_timeout) + " in the TLS handshake with " + peer);
  }
  if (ec == net::errc::tls_certificate_invalid) {
    // tls::stream says "certificate verify failed: <reason>"; name the peer as well.
    constexpr std::string_view prefix = "certificate verify failed: ";
    if (detail.starts_with(prefix)) detail.remove_prefix(prefix.size());
    return client_error(ec, "certificate verify failed for " + peer + ": " +
                                std::string(detail.empty() ? std::string_view("unknown reason") : detail));
  }
  if (ec == net::errc::tls_host_name_mismatch) {
    return client_error(ec, detail.empty() ? "host name mismatch for " + peer : std::string(detail));
  }
  if (ec == dusty::errc::eof) return client_error(ec, "connection closed by " + peer + " during the TLS handshake");
  return client_error(ec, "TLS handshake with " + peer + " failed: " +
                              (detail.empty() ? ec.message() : std::string(detail)));
}


void connect_into(detail::client_lease& lease, const url& u, const settings& s, const client_config& config,
                  const fetch_context& ctx, const std::shared_ptr<const net::tls::context>* tls,
                  detail::client_shard& shard) {
  auto timeout_for = [&] {
    bool whole = ctx.request_deadline != no_deadline && std::chrono::steady_clock::now() >= ctx.request_deadline;
    return format_duration(whole ? s.request_timeout : s.connect_timeout);
  };
  auto c = net::connect_to(u.host, u.port, {.deadline = ctx.request_deadline, .attempt_timeout = s.connect_timeout});
  const client_connection_config cc{.max_head_size = config.max_head_size, .read_timeout = s.read_timeout};
  if (c && tls == nullptr) {
    lease.adopt(client_connection(std::move(*c), cc));
    return;
  }
  if (c) {
    // The handshake is part of connecting: connect_timeout bounds it on its own.
    auto stream = std::make_unique<net::tls::stream>(
        *tls, std::move(*c),
        net::tls::client_options{.host = u.host,
                                 .sessions = s.tls->session_resumption ? &shard.sessions() : nullptr,
                                 .session_key = lease.pool_key()});
    auto d = s.connect_timeout.count() > 0 ? std::min(ctx.request_deadline, after(s.connect_timeout)) : ctx.request_deadline;
    if (auto h = stream->handshake(d); !h) {
      auto ec = h.error();
      throw attempt_failure(handshake_error(ec, stream->error_detail(), ctx.peer, s),
                            ec != net::errc::tls_truncated && is_connection_error(ec));
    }
    shard.count_handshake(stream->resumed());
    lease.adopt(client_connection(std::unique_ptr<net::stream>(std::move(stream)), cc));
    return;
  }
  auto ec = c.error().code;
  if (!c.error().address) {  // the name did not resolve
    if (ec == dusty::errc::timed_out) {
      throw attempt_failure(client_error(ec, "timeout after " + timeout_for() + " resolving " + u.host), false);
    }
    if (ec == net::errc::host_not_found) throw attempt_failure(client_error(ec, "host not found: " + u.host), false);
    throw attempt_failure(client_error(ec, "cannot resolve " + u.host + ": " + ec.message()),
                          ec == net::errc::dns_failure);
  }
  auto last_addr = c.error().address->to_string();
  if (ec == std::errc::connection_refused) {
    throw attempt_failure(client_error(ec, "connect refused: " + last_addr), true);
  }
  if (ec == dusty::errc::timed_out) {
    throw attempt_failure(client_error(ec, "timeout after " + timeout_for() + " connecting to " + last_addr), false);
  }
  throw attempt_failure(client_error(ec, "connect to " + last_addr + " failed: " + ec.message()),
                        is_connection_error(ec));
}

// Writes the request; returns the error code of a failed write, if any.
std::error_code send_request(client_connection& c, const url& u, request_plan& plan, const settings& s,
                             const client_config& config, const fetch_context& ctx) {
  auto d = [&] {
    return s.read_timeout.count() > 0 ? std::min(ctx.request_deadline, after(s.read_timeout)) : ctx.request_deadline;
  };
  auto dl = d();
  std::error_code ec;
  auto field = [&](std::string_view name, std::string_view value) {
    if (!ec) {
      if (auto r = c.write_field(name, value, dl); !r) ec = r.error();
    }
  };
  if (auto r = c.write_head(plan.token, u.target, dl); !r) return r.error();
  field("Host", u.authority());
  if (!config.user_agent.empty() && !plan.has_user("user-agent")) field("User-Agent", config.user_agent);
  if (s.decompress && !plan.has_user("accept-encoding")) field("Accept-Encoding", "gzip, deflate");
  if (!u.userinfo.empty() && !plan.has_user("authorization")) {
    field("Authorization", "Basic " + base64_encode(percent_decode(u.userinfo)));
  }
  if (s.jar != nullptr && !plan.has_user("cookie")) {
    auto cookies = s.jar->cookie_header(u);
    if (!cookies.empty()) field("Cookie", cookies);
  }
  if (plan.stream != nullptr) {
    if (!plan.has_user("transfer-encoding")) field("Transfer-Encoding", "chunked");
  } else if (plan.has_body || plan.method == http::method::post || plan.method == http::method::put ||
             plan.method == http::method::patch) {
    if (!plan.has_user("content-length")) field("Content-Length", std::to_string(plan.body.size()));
  }
  if (plan.content_type != nullptr && !plan.has_user("content-type")) field("Content-Type", plan.content_type);
  for (const auto& [k, v] : *plan.headers) {
    if (!plan.skip_user(k)) field(k, v);
  }
  if (ec) return ec;
  if (auto r = c.end_head(dl); !r) return r.error();
  if (plan.stream != nullptr) {
    plan.stream_used = true;
    std::vector<char> chunk(16 * 1024);
    for (;;) {
      std::size_t n = (*plan.stream)(std::span<char>(chunk));
      if (n == 0) break;
      if (auto r = c.write_chunk({chunk.data(), std::min(n, chunk.size())}, d()); !r) return r.error();
    }
    if (auto r = c.end_chunks(d()); !r) return r.error();
  } else if (plan.has_body) {
    if (auto r = c.write_body(plan.body, d()); !r) return r.error();
  }
  if (auto r = c.flush(d()); !r) return r.error();
  return {};
}

attempt_result attempt(client& owner, detail::client_shard& shard, const url& u, request_plan& plan,
                       const settings& s, const client_config& config, fetch_context& ctx) {
  ctx.peer = net::host_port(u.host, u.port);
  const std::shared_ptr<const net::tls::context>* tls = nullptr;
  std::string_view tls_tag;
  if (u.scheme == "https") tls = &shard.tls_context(owner, *s.tls, tls_tag);
  detail::client_lease lease = shard.checkout(u, tls_tag);
  bool fresh_retry = false;
  for (;;) {
    if (lease.connection() == nullptr) connect_into(lease, u, s, config, ctx, tls, shard);
    client_connection& c = *lease.connection();
    const bool reused = lease.reused();
    if (reused) shard.count_reuse();
    c.set_read_timeout(s.read_timeout);

    std::string_view doing = "sending the request to";
    std::error_code ec = send_request(c, u, plan, s, config, ctx);
    if (ec == errc::invalid_header) {
      throw attempt_failure(client_error(ec, "invalid request header for " + u.to_string()), false);
    }
    if (!ec) {
      doing = "reading headers from";
      if (auto r = c.read_head(ctx.request_deadline); !r) ec = r.error();
    }
    if (ec) {
      // A kept-alive connection the server closed while it was idle: once more on a fresh
      // one, if sending the request twice is harmless.
      if (reused && !c.response_started() && !fresh_retry && plan.repeatable() && is_connection_error(ec)) {
        lease.discard();
        fresh_retry = true;
        continue;
      }
      bool retryable = !c.response_started() && is_connection_error(ec);
      throw attempt_failure(detail::transfer_error(ec, doing, ctx, detail::tls_detail(c)), retryable);
    }

    attempt_result a;
    const response_head& h = c.head();
    a.status = h.status;
    a.reason = std::string(h.reason);
    a.version = h.version;
    a.headers.reserve(h.headers.size());
    std::optional<content_coding> coding;
    for (const auto& f : h.headers) {
      a.headers.emplace_back(std::string(f.name), std::string(f.value));
      if (s.jar != nullptr && iequals(f.name, "set-cookie")) s.jar->store(u, f.value);
      if (s.decompress && iequals(f.name, "content-encoding")) coding = parse_content_coding(f.value);
    }
    if (c.body_done()) {
      lease.release();
    } else {
      a.exchange = std::make_unique<detail::client_exchange>(std::move(lease), ctx, coding);
    }
    return a;
  }
}

bool is_redirect(unsigned status) noexcept {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

// ---- client_response ----

client_response::client_response(client_response&&) noexcept = default;
client_response& client_response::operator=(client_response&&) noexcept = default;
client_response::~client_response() = default;

std::optional<std::string_view> client_response::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers_) {
    if (iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

const std::string& client_response::body() {
  if (!body_) {
    std::string out;
    if (exchange_) {
      exchange_->read_all(out);
      exchange_.reset();
    }
    body_ = std::move(out);
  }
  return *body_;
}

nlohmann::json client_response::json() {
  auto j = nlohmann::json::parse(body(), nullptr, false);
  if (j.is_discarded()) {
    throw client_error(make_error_code(errc::invalid_response), "the body of " + url_.to_string() + " is not JSON");
  }
  return j;
}

std::size_t client_response::read_some(std::span<char> buf) {
  if (!exchange_) return 0;
  std::size_t n = exchange_->read_some(buf);
  if (exchange_->done() && n == 0) exchange_.reset();
  return n;
}

// ---- client ----

client::client(client_config config) : config_(std::move(config)), shards_(shard_count()) {}

client::~client() {
  // Each shard's pools hold connections of that shard's reactor: close them there.
  const unsigned here = this_shard_id();
  for (unsigned i = 0; i < shards_.size(); ++i) {
    if (i == here || !shards_[i]) continue;
    auto* slot = &shards_[i];
    try {
      submit_to(i, [slot] { slot->reset(); }).get();
    } catch (...) {
      // The runtime is winding down; the shard frees its own state.
    }
  }
  if (here < shards_.size()) shards_[here].reset();
}

detail::client_shard& client::local() {
  auto& s = shards_[this_shard_id()];
  if (!s) s = std::make_unique<detail::client_shard>(config_);
  return *s;
}

client::pool_stats client::stats() const {
  auto& s = shards_[this_shard_id()];
  return s ? s->stats() : pool_stats{};
}

std::shared_ptr<const net::tls::context> client::tls_context(const client_tls_config& tls) {
  std::lock_guard guard(tls_lock_);
  for (auto& [config, ctx] : tls_contexts_) {
    if (config == tls) return ctx;
  }
  std::shared_ptr<const net::tls::context> ctx = tls.context;
  if (!ctx) {
    net::tls::client_config c{.ca_file = tls.ca_file,
                              .cert_file = tls.cert_file,
                              .key_file = tls.key_file,
                              .alpn = {"http/1.1"},
                              .insecure = tls.insecure};
    try {
      ctx = net::tls::context::client(c);
    } catch (const net::tls::config_error& e) {
      throw client_error(std::make_error_code(std::errc::invalid_argument), e.what());
    }
  }
  tls_contexts_.emplace_back(tls, ctx);
  return ctx;
}

void client::close_idle() {
  if (auto& s = shards_[this_shard_id()]) s->close_idle();
}

client_response client::fetch(std::string_view text, fetch_options options) {
  auto parsed = url::parse(text);
  if (!parsed) {
    if (parsed.error() == errc::unsupported_scheme) {
      throw client_error(parsed.error(), "unsupported URL scheme: " + std::string(text));
    }
    throw client_error(parsed.error(), "invalid URL: " + std::string(text));
  }
  int bodies = int(options.body.has_value()) + int(options.json.has_value()) + int(bool(options.stream));
  if (bodies > 1) {
    throw client_error(std::make_error_code(std::errc::invalid_argument),
                       "fetch_options: give at most one of body, json and stream");
  }
  for (const auto& [k, v] : options.headers) {
    if (!is_valid_field_name(k) || !is_valid_field_value(v))
      throw client_error(make_error_code(errc::invalid_header), "invalid request header: " + k);
  }

  settings s{
      .connect_timeout = options.connect_timeout.value_or(config_.connect_timeout),
      .request_timeout = options.request_timeout.value_or(config_.request_timeout),
      .read_timeout = options.read_timeout.value_or(config_.read_timeout),
      .max_redirects = options.max_redirects.value_or(config_.max_redirects),
      .retry = options.retry.value_or(config_.retry),
      .max_response_size = options.max_response_size.value_or(config_.max_response_size),
      .decompress = options.decompress.value_or(config_.decompress),
      .jar = nullptr,
      .tls = options.tls ? &*options.tls : &config_.tls,
  };
  detail::client_shard& shard = local();
  s.jar = options.cookies != nullptr ? options.cookies : (config_.cookies ? &shard.jar() : nullptr);

  request_plan plan;
  plan.method = options.method;
  plan.token = options.method == http::method::other ? options.method_token : std::string(to_string(options.method));
  if (plan.token.empty()) {
    throw client_error(std::make_error_code(std::errc::invalid_argument), "fetch_options: method_token is empty");
  }
  plan.headers = &options.headers;
  if (options.json) {
    plan.body = options.json->dump();
    plan.has_body = true;
    plan.content_type = "application/json";
  } else if (options.body) {
    plan.body = std::move(*options.body);
    plan.has_body = true;
  } else if (options.stream) {
    plan.stream = &options.stream;
  }

  fetch_context ctx;
  ctx.request_timeout = s.request_timeout;
  ctx.read_timeout = s.read_timeout;
  ctx.max_response_size = s.max_response_size;
  if (s.request_timeout.count() > 0) ctx.request_deadline = after(s.request_timeout);

  auto run = [&]() -> client_response {
    url current = *parsed;
    unsigned redirects = 0;
    unsigned retries = 0;
    for (;;) {
      attempt_result a;
      try {
        a = attempt(*this, shard, current, plan, s, config_, ctx);
      } catch (const attempt_failure& f) {
        if (f.retryable && plan.repeatable() && retries < s.retry.max_retries) {
          auto delay = backoff(s.retry, retries + 1, std::nullopt);
          if (fits(delay, ctx)) {
            sleep_for(delay);
            ++retries;
            continue;
          }
        }
        throw client_error(f.code(), f.what());
      }

      if (is_redirect(a.status) && s.max_redirects > 0) {
        if (auto location = a.header("location")) {
          const bool keep_method = a.status == 307 || a.status == 308;
          if (keep_method && plan.stream != nullptr) {
            // A streamed body cannot be sent again: the caller gets the redirect itself.
          } else {
            if (redirects >= s.max_redirects) {
              a.abandon();
              throw client_error(make_error_code(errc::too_many_redirects),
                                 "too many redirects (more than " + std::to_string(s.max_redirects) + ") fetching " +
                                     parsed->to_string());
            }
            auto next = current.resolve(*location);
            if (!next) {
              a.abandon();
              auto code = !next && next.error() != errc::unsupported_scheme ? errc::invalid_response
                                                                           : errc::unsupported_scheme;
              throw client_error(make_error_code(code), "cannot follow redirect from " + current.to_string() +
                                                            " to " + std::string(*location));
            }
            a.abandon();
            if (!keep_method && plan.method != http::method::head) {
              // RFC 9110 section 15.4: user agents turn these into GET without a body.
              plan.method = http::method::get;
              plan.token = "GET";
              plan.body.clear();
              plan.has_body = false;
              plan.stream = nullptr;
              plan.content_type = nullptr;
              plan.body_dropped = true;
            }
            if (next->scheme != current.scheme || next->host != current.host || next->port != current.port) {
              plan.drop_auth = true;
            }
            current = std::move(*next);
            ++redirects;
            continue;
          }
        }
      }

      if ((a.status == 502 || a.status == 503 || a.status == 504) && plan.repeatable() &&
          retries < s.retry.max_retries) {
        auto delay = backoff(s.retry, retries + 1, parse_retry_after(a.header("retry-after")));
        if (fits(delay, ctx)) {
          a.abandon();
          sleep_for(delay);
          ++retries;
          continue;
        }
      }

      client_response r;
      r.status_ = static_cast<http::status>(a.status);
      r.reason_ = std::move(a.reason);
      r.version_ = a.version;
      r.headers_ = std::move(a.headers);
      r.url_ = std::move(current);
      r.redirects_ = redirects;
      r.exchange_ = std::move(a.exchange);
      if (!r.exchange_) r.body_.emplace();
      return r;
    }
  };

  if (ctx.request_deadline == no_deadline) return run();
  try {
    // A safety net for waits without their own deadline (a pool slot, a streamed body,
    // a backoff); the I/O calls carry the deadline themselves, slightly earlier, so
    // their more precise errors win.
    return with_deadline(ctx.request_deadline + 50ms, run);
  } catch (const timeout_error&) {
    throw client_error(make_error_code(dusty::errc::timed_out),
                       "timeout after " + format_duration(s.request_timeout) + " fetching " + parsed->to_string());
  }
}

client_response client::get(std::string_view url, fetch_options options) {
  options.method = http::method::get;
  return fetch(url, std::move(options));
}
client_response client::head(std::string_view url, fetch_options options) {
  options.method = http::method::head;
  return fetch(url, std::move(options));
}
client_response client::post(std::string_view url, fetch_options options) {
  options.method = http::method::post;
  return fetch(url, std::move(options));
}
client_response client::put(std::string_view url, fetch_options options) {
  options.method = http::method::put;
  return fetch(url, std::move(options));
}
client_response client::patch(std::string_view url, fetch_options options) {
  options.method = http::method::patch;
  return fetch(url, std::move(options));
}
client_response client::delete_(std::string_view url, fetch_options options) {
  options.method = http::method::delete_;
  return fetch(url, std::move(options));
}

}  // namespace dusty::http
