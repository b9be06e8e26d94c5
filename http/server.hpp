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
// Register routes and middleware before start(); from then on the table is read by
// every shard at once and must not change. start(), stop() and listen() are called from
// a fiber (usually the runtime's main fiber) and suspend.
#include <dusty/core/runtime.hpp>
#include <dusty/core/sharded.hpp>
#include <dusty/http/detail/dispatcher.hpp>
#include <dusty/http/detail/request_access.hpp>
#include <dusty/http/detail/shard_server.hpp>
#include <dusty/http/handler.hpp>
#include <dusty/http/server_config.hpp>

#include <memory>
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
  /// Throws std::system_error when the address cannot be bound (in use, bad address).
  template <class... A>
  void start(const A&... app_args) {
    const auto& cfg = state_->config;
    auto addr = cfg.unix_path.empty() ? net::socket_address::parse(net::host_port(cfg.address, cfg.port))
                                      : net::socket_address::parse("unix:" + cfg.unix_path);
    if (!addr) throw std::system_error(addr.error(), "bad listen address '" + cfg.address + "'");
    apps_.start(app_args...);
    shards_.start(state_.get());
    started_ = true;
    try {
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

  /// Stops gracefully on every shard (see shard_server::stop), then destroys the Apps.
  void stop() {
    if (!started_) return;
    started_ = false;
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

  /// This shard's App.
  app_type& app() { return apps_.local(); }

 private:
  explicit server(std::unique_ptr<detail::server_state> state)
      : route_scope<App>(state->routes, ""), state_(std::move(state)) {}

  void* app_pointer() { return &apps_.local(); }

  std::unique_ptr<detail::server_state> state_;
  sharded<app_type> apps_;
  sharded<detail::shard_server> shards_;
  net::socket_address address_;
  bool started_ = false;
};

}  // namespace dusty::http
