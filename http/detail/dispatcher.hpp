#pragma once
// The routing table of a server and how a request travels through it: global
// middleware, then route lookup (404, 405 with Allow), then the route's own middleware
// (its groups' and its own), then the handler. Built before the server starts and only
// read afterwards, by every shard.
#include <dusty/core/bool_class.hpp>
#include <dusty/http/handler.hpp>
#include <dusty/http/router.hpp>

#include <memory>
#include <string>
#include <vector>

namespace dusty::http::detail {

/// Whether a route answers every method (`all`) rather than the one given.
using any_method = bool_class<struct any_method_tag>;

class dispatcher {
 public:
  explicit dispatcher(std::size_t max_params);

  void add(method m, std::string_view pattern, handler h, std::vector<std::shared_ptr<const middleware>> chain,
           any_method any);
  void use(middleware mw) { global_.push_back(std::make_shared<const middleware>(std::move(mw))); }
  void set_not_found(handler h) { not_found_ = std::move(h); }
  void set_error_handler(error_handler h) { error_ = std::move(h); }

  /// Routes and runs the request. Exceptions from middleware and handlers propagate.
  void dispatch(request& req, response& res) const;
  /// Lets the error handler answer for `error`.
  void handle_error(request& req, response& res, std::exception_ptr error) const;

 private:
  struct route {
    handler fn;
    std::vector<const middleware*> chain;
    std::vector<std::shared_ptr<const middleware>> owned;
  };
  void route_request(request& req, response& res) const;

  router<route> router_;
  std::size_t max_params_;
  std::vector<std::shared_ptr<const middleware>> global_;
  handler not_found_;
  error_handler error_;
  handler route_step_;
};

}  // namespace dusty::http::detail
