#pragma once
// server<App>: an HTTP/1.x server that runs on every shard. Each shard has its own
// listener on the same port (SO_REUSEPORT), its own connections (one fiber each) and
// its own App, the per-shard application context (http.zig's ServerCtx). Handlers take
// (request&, response&) or (App&, request&, response&).
//
//   struct app { std::uint64_t hits = 0; };                // one per shard, no locks
//
//   dusty::http::server<app> srv({.port = 8080});
//   srv.get("/", [](dusty::http::request&, dusty::http::response& res) { res.body = "Hello"; });
//   srv.get("/user/:id", [](app& a, auto& req, auto& res) {
//     ++a.hits;
//     res.json({{"id", req.param("id")}});
//   });
//   auto api = srv.group("/api", {require_token});
//   api.post("/items", create_item);
//   srv.listen();                                            // until SIGINT/SIGTERM
//
// HTTPS: set config.tls.cert_file and key_file (server_config::tls); the same port then
// speaks TLS only (for a plain and a TLS port at once, run two servers on the same App
// routes). SIGHUP reloads the certificates for new connections.
//
// Register routes and middleware before start(); from then on the table is read by
// every shard at once and must not change. start(), stop() and listen() are called from
// a fiber (usually the runtime's main fiber) and suspend.
#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/log.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/core/sharded.hpp>
#include <dusty/core/signal.hpp>
#include <dusty/http/detail/dispatcher.hpp>
#include <dusty/http/detail/request_access.hpp>
#include <dusty/http/detail/shard_server.hpp>
#include <dusty/http/handler.hpp>
#include <dusty/http/server_config.hpp>
#include <dusty/http/server_stats.hpp>
#include <dusty/http/ws/session.hpp>
#include <dusty/net/tls/context.hpp>
#include <dusty/net/tls/counters.hpp>

#include <csignal>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace dusty::http {

/// Routes under a common prefix with common middleware: the server itself (empty
/// prefix, no middleware) or a group of it.
template <class App>
class route_scope : public detail::route_verbs<route_scope<App>, std::vector<middleware>> {
 public:
  using middleware_list = std::vector<middleware>;

  // get/head/post/put/patch/delete_/options(pattern, fn, middleware_list = {}) come from
  // detail::route_verbs and call add().

  /// Registers `fn` for method `m` on prefix + pattern, behind this scope's middleware
  /// and then `extra`. Throws std::invalid_argument for a bad or duplicate pattern.
  template <class F>
  void add(method m, std::string_view pattern, F fn, middleware_list extra = {}) {
    insert(m, detail::any_method::no, pattern, std::move(fn), std::move(extra));
  }
  /// Registers `fn` for any method, including methods without an enumerator.
  template <class F>
  void all(std::string_view pattern, F fn, middleware_list extra = {}) {
    insert(method::other, detail::any_method::yes, pattern, std::move(fn), std::move(extra));
  }

  /// A WebSocket endpoint: a GET route (behind this scope's middleware, then `extra`,
  /// which may refuse the upgrade with any status) that checks the handshake (400, 403,
  /// 426 when it is wrong), answers 101 and runs `fn(req, session)` — or, on a
  /// server<App>, `fn(app, req, session)` — in the connection's fiber until it returns;
  /// the connection then ends. Limits: server_config::websocket. See http/ws/session.hpp.
  template <class F>
  void websocket(std::string_view pattern, F fn, ws::route_options options = {}, middleware_list extra = {}) {
    ws::detail::session_handler h;
    if constexpr (std::is_void_v<App>) {
      h = std::move(fn);
    } else if constexpr (std::is_invocable_v<F&, App&, request&, ws::session&>) {
      h = [fn = std::move(fn)](request& req, ws::session& s) {
        fn(*static_cast<App*>(detail::request_access::app(req)), req, s);
      };
    } else {
      h = std::move(fn);
    }
    add(method::get, pattern, ws::detail::upgrade_handler(std::move(options), std::move(h)), std::move(extra));
  }

  /// A sub-scope: routes registered on it get `prefix` prepended (joined with exactly
  /// one '/', as router groups are: "/api/" and "/x" make "/api/x") and run `mws` after
  /// this scope's own middleware.
  route_scope group(std::string_view prefix, middleware_list mws = {}) const {
    route_scope g(*routes_, detail::join_pattern(prefix_, prefix));
    g.chain_ = chain_;
    for (auto& mw : mws) g.chain_.push_back(std::make_shared<const middleware>(std::move(mw)));
    return g;
  }

 protected:
  route_scope(detail::dispatcher& routes, std::string prefix) : routes_(&routes), prefix_(std::move(prefix)) {}

  template <class F>
  void insert(method m, detail::any_method any, std::string_view pattern, F fn, middleware_list extra) {
    auto chain = chain_;
    for (auto& mw : extra) chain.push_back(std::make_shared<const middleware>(std::move(mw)));
    routes_->add(m, detail::join_pattern(prefix_, pattern), wrap(std::move(fn)), std::move(chain), any);
  }

  /// Turns any accepted handler shape into the one the dispatcher stores.
  template <class F>
  static handler wrap(F fn) {
    if constexpr (std::is_void_v<App>) {
      return handler(std::move(fn));
    } else if constexpr (std::is_invocable_v<F&, App&, request&, response&>) {
      return [fn = std::move(fn)](request& req, response& res) { fn(*static_cast<App*>(detail::request_access::app(req)), req, res); };
    } else {
      return handler(std::move(fn));
    }
  }

 private:
  detail::dispatcher* routes_;
  std::string prefix_;
  std::vector<std::shared_ptr<const middleware>> chain_;
};

namespace detail {
struct no_app {};
}  // namespace detail

template <class App = void>
class server : public route_scope<App> {
  using app_type = std::conditional_t<std::is_void_v<App>, detail::no_app, App>;

 public:
  explicit server(server_config config = {})
      : server(std::make_unique<detail::server_state>(std::move(config))) {}
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  ~server() {
    if (started_) {
      try {
        stop();
      } catch (...) {
      }
    }
  }

  /// Middleware for every request, routed or not (404s and CORS preflights included).
  void use(middleware mw) { state_->routes.use(std::move(mw)); }
  /// The handler for paths no route matches. Default: 404 "Not Found".
  void not_found(handler h) { state_->routes.set_not_found(std::move(h)); }
  /// The handler for exceptions escaping middleware and handlers. Default: the status of
  /// a status_error with its message, else 500 (and the exception is logged).
  void error_handler(http::error_handler h) { state_->routes.set_error_handler(std::move(h)); }

  /// Builds App(app_args...) on every shard, binds the listeners and starts accepting.
  /// Throws std::system_error when the address cannot be bound (in use, bad address);
  /// with tls, first builds the TLS context and throws net::tls::config_error (what()
  /// names the file) for a certificate or key that is missing, unreadable or does not
  /// match, and std::invalid_argument for an ALPN protocol it cannot serve.
  template <class... A>
  void start(const A&... app_args) {
    const auto& cfg = state_->config;
    auto addr = cfg.unix_path.empty() ? net::socket_address::parse(net::host_port(cfg.address, cfg.port))
                                      : net::socket_address::parse("unix:" + cfg.unix_path);
    if (!addr) throw std::system_error(addr.error(), "bad listen address '" + cfg.address + "'");
    if (cfg.tls.enabled()) {
      for (auto& p : cfg.tls.alpn)
        if (p != "http/1.1" && p != "http/1.0" && !(p == "h2" && cfg.http2.enabled))
          throw std::invalid_argument("tls.alpn: '" + p + "' is not served (only http/1.1, http/1.0 and, with http2, h2)");
      tls_ = std::make_shared<net::tls::context_holder>(net::tls::context::server(cfg.tls_context_config()));
    }
    apps_.start(app_args...);
    shards_.start(state_.get(), tls_.get());
    started_ = true;
    try {
      // Before the port accepts: a SIGHUP sent as soon as it does must find the reload.
      if (tls_ && cfg.tls.reload_on_sighup) {
        // The function keeps what it needs alive by itself, so a SIGHUP racing stop()
        // touches nothing the server frees.
        reload_signal_ = on_signal(SIGHUP, [holder = tls_, c = cfg.tls_context_config()] {
          try {
            holder->reload(c);
            log::info("TLS certificates reloaded from ", c.cert_file);
          } catch (const std::exception& e) {
            log::error("TLS certificate reload failed, keeping the current certificates: ", e.what());
          }
        });
      }
      // Shard 0 binds first so that port 0 becomes a real port the others then share.
      address_ = shards_.invoke_on(0, [a = *addr](detail::shard_server& s) { return s.listen(a); });
      if (cfg.unix_path.empty()) {
        auto shared_addr = address_;
        shards_.invoke_on_all([&shared_addr](detail::shard_server& s) {
          if (this_shard_id() != 0) s.listen(shared_addr);
        });
      }
      shards_.invoke_on_all([this](detail::shard_server& s) { s.start(app_pointer()); });
    } catch (...) {
      stop();
      throw;
    }
  }

  /// Stops gracefully: first draining() turns true on every shard (over the cross-core
  /// queues, so a shard reads its own flag), and the server goes on serving for
  /// timeouts.drain_notice; then every shard stops accepting, closes idle connections
  /// and gives busy ones timeouts.drain to finish; then the Apps are destroyed. Suspends
  /// until all of that is done.
  void stop() {
    if (!started_) return;
    started_ = false;
    reload_signal_.reset();
    shards_.invoke_on_all([](detail::shard_server& s) { s.begin_drain(); });
    if (auto notice = state_->config.timeouts.drain_notice; notice.count() > 0) {
      try {
        sleep_for(notice);
      } catch (const cancelled_error&) {
        // Asked to hurry (a second signal): drain now.
      }
    }
    // Every shard drains before any shard_server is destroyed, so a handler still
    // running (a /metrics scrape) finds every shard's instance in place.
    shards_.invoke_on_all([](detail::shard_server& s) { s.stop(); });
    shards_.stop();
    apps_.stop();
  }

  /// start(), then wait_for_stop() (SIGINT, SIGTERM, request_stop()), then stop().
  template <class... A>
  void listen(const A&... app_args) {
    start(app_args...);
    wait_for_stop();
    stop();
  }

  /// Where the server listens; the real port when config.port was 0. After start().
  const net::socket_address& address() const noexcept { return address_; }
  const server_config& config() const noexcept { return state_->config; }

  /// Whether the server speaks TLS (config().tls.enabled()), after start().
  bool tls() const noexcept { return tls_ != nullptr; }

  /// Builds a new TLS context from config().tls's files (keeping the session-ticket key,
  /// so tickets issued before still resume) and gives it to connections accepted from
  /// now on; open connections keep theirs. This is what SIGHUP does. Throws
  /// net::tls::config_error and then keeps the current context; std::logic_error
  /// without TLS. Any fiber, after start(); does not suspend (reads files synchronously).
  void reload_tls() {
    if (!tls_) throw std::logic_error("reload_tls: the server does not speak TLS");
    tls_->reload(state_->config.tls_context_config());
  }

  /// The TLS counters of each shard (net::tls::shard_counters(): handshakes completed,
  /// failed or timed out, resumed, plaintext HTTP on the TLS port), index = shard. They
  /// count every tls::stream of the shard, client ones too. From a fiber; suspends.
  std::vector<net::tls::counters> tls_counters() {
    std::vector<net::tls::counters> out;
    for (unsigned i = 0; i < shard_count(); ++i)
      out.push_back(shards_.invoke_on(i, [](detail::shard_server&) { return net::tls::shard_counters(); }));
    return out;
  }

  /// True once stop() has begun: the server is draining and should get no new work.
  /// Reads the calling shard's own flag (set on every shard when the stop begins, before
  /// the drain notice). From a handler or any fiber of a shard, after start() and until
  /// stop() has returned; never suspends. http/health.hpp's /readyz answers 503 on it.
  bool draining() { return shards_.local().draining(); }

  /// Each shard's counters (connections, requests by status class, bytes, latency;
  /// http/server_stats.hpp), index = shard, gathered over the cross-core queues. From a
  /// fiber (a handler too) after start() and until stop() has returned; suspends.
  std::vector<server_stats> stats() {
    std::vector<server_stats> out;
    for (unsigned i = 0; i < shard_count(); ++i)
      out.push_back(shards_.invoke_on(i, [](detail::shard_server& s) { return s.stats(); }));
    return out;
  }

  /// Open connections of every shard (handshaking, busy or idle). From a fiber; suspends.
  std::size_t connection_count() {
    std::size_t n = 0;
    for (unsigned i = 0; i < shard_count(); ++i)
      n += shards_.invoke_on(i, [](detail::shard_server& s) { return s.connections(); });
    return n;
  }

  /// This shard's App.
  app_type& app() { return apps_.local(); }

 private:
  explicit server(std::unique_ptr<detail::server_state> state)
      : route_scope<App>(state->routes, ""), state_(std::move(state)) {}

  void* app_pointer() { return &apps_.local(); }

  std::unique_ptr<detail::server_state> state_;
  sharded<app_type> apps_;
  sharded<detail::shard_server> shards_;
  std::shared_ptr<net::tls::context_holder> tls_;  // null without TLS; shared with the SIGHUP function
  signal_handler reload_signal_;
  net::socket_address address_;
  bool started_ = false;
};

}  // namespace dusty::http
