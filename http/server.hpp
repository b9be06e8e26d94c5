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
class route_scope {
 public:
  using middleware_list = std::vector<middleware>;

  template <class F> void get(std::string_view p, F fn, middleware_list m = {}) { add(method::get, p, std::move(fn), std::move(m)); }
  template <class F> void head(std::string_view p, F fn, middleware_list m = {}) { add(method::head, p, std::move(fn), std::move(m)); }
  template <class F> void post(std::string_view p, F fn, middleware_list m = {}) { add(method::post, p, std::move(fn), std::move(m)); }
  template <class F> void put(std::string_view p, F fn, middleware_list m = {}) { add(method::put, p, std::move(fn), std::move(m)); }
  template <class F> void patch(std::string_view p, F fn, middleware_list m = {}) { add(method::patch, p, std::move(fn), std::move(m)); }
  template <class F> void delete_(std::string_view p, F fn, middleware_list m = {}) { add(method::delete_, p, std::move(fn), std::move(m)); }
  template <class F> void options(std::string_view p, F fn, middleware_list m = {}) { add(method::options, p, std::move(fn), std::move(m)); }
  /// Any method.
  template <class F> void all(std::string_view p, F fn, middleware_list m = {}) { add(method::other, p, std::move(fn), std::move(m), true); }

  /// Registers `fn` for method `m` on prefix + pattern, behind this scope's middleware
  /// and then `extra`. Throws std::invalid_argument for a bad or duplicate pattern.
  template <class F>
  void add(method m, std::string_view pattern, F fn, middleware_list extra = {}, bool any_method = false) {
    auto chain = chain_;
    for (auto& mw : extra) chain.push_back(std::make_shared<const middleware>(std::move(mw)));
    routes_->add(m, prefix_ + std::string(pattern), wrap(std::move(fn)), std::move(chain), any_method);
  }

  /// A sub-scope: routes registered on it get `prefix` prepended and run `mws` after
  /// this scope's own middleware.
  route_scope group(std::string_view prefix, middleware_list mws = {}) const {
    route_scope g(*routes_, prefix_ + std::string(prefix));
    g.chain_ = chain_;
    for (auto& mw : mws) g.chain_.push_back(std::make_shared<const middleware>(std::move(mw)));
    return g;
  }

 protected:
  route_scope(detail::dispatcher& routes, std::string prefix) : routes_(&routes), prefix_(std::move(prefix)) {}

  /// Turns any accepted handler shape into the one the dispatcher stores.
  template <class F>
  static handler wrap(F fn) {
    if constexpr (std::is_void_v<App>) {
      return handler(std::move(fn));
    } else if constexpr (std::is_invocable_v<F&, App&, request&, response&>) {
      return [fn = std::move(fn)](request& req, response& res) { fn(*static_cast<App*>(req.app()), req, res); };
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
      : server(std::make_unique<detail::server_shared>(std::move(config))) {}
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
  void use(middleware mw) { shared_->routes.use(std::move(mw)); }
  /// The handler for paths no route matches. Default: 404 "Not Found".
  void not_found(handler h) { shared_->routes.set_not_found(std::move(h)); }
  /// The handler for exceptions escaping middleware and handlers. Default: the status of
  /// a status_error with its message, else 500 (and the exception is logged).
  void error_handler(http::error_handler h) { shared_->routes.set_error_handler(std::move(h)); }

  /// Builds App(app_args...) on every shard, binds the listeners and starts accepting.
  /// Throws std::system_error when the address cannot be bound (in use, bad address).
  template <class... A>
  void start(const A&... app_args) {
    const auto& cfg = shared_->config;
    auto addr = cfg.unix_path.empty() ? net::socket_address::parse(bind_text(cfg.address, cfg.port))
                                      : net::socket_address::parse("unix:" + cfg.unix_path);
    if (!addr) throw std::system_error(addr.error(), "bad listen address '" + cfg.address + "'");
    apps_.start(app_args...);
    shards_.start(shared_.get());
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
  const server_config& config() const noexcept { return shared_->config; }

  /// This shard's App.
  app_type& app() { return apps_.local(); }

 private:
  explicit server(std::unique_ptr<detail::server_shared> shared)
      : route_scope<App>(shared->routes, ""), shared_(std::move(shared)) {}

  static std::string bind_text(const std::string& host, std::uint16_t port) {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
  void* app_pointer() { return &apps_.local(); }

  std::unique_ptr<detail::server_shared> shared_;
  sharded<app_type> apps_;
  sharded<detail::shard_server> shards_;
  net::socket_address address_;
  bool started_ = false;
};

}  // namespace dusty::http
