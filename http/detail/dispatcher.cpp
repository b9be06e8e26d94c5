#include <dusty/http/detail/dispatcher.hpp>
#include <dusty/http/detail/request_access.hpp>

#include <dusty/core/log.hpp>

#include <array>

namespace dusty::http::detail {
namespace {

void default_not_found(request&, response& res) {
  res.status = 404;
  res.content_type("text/plain");
  res.body = "Not Found";
}

void default_error(request& req, response& res, std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const status_error& e) {
    res.status = e.status();
    res.content_type("text/plain");
    res.body = std::string(e.what());
  } catch (const std::exception& e) {
    log::error("unhandled exception for ", req.method_name(), " ", req.path(), ": ", e.what());
    res.status = 500;
    res.content_type("text/plain");
    res.body = "Internal Server Error";
  } catch (...) {
    log::error("unhandled non-standard exception for ", req.method_name(), " ", req.path());
    res.status = 500;
    res.content_type("text/plain");
    res.body = "Internal Server Error";
  }
}

constexpr std::size_t params_capacity = 32;

}  // namespace

dispatcher::dispatcher(std::size_t max_params)
    : router_(router_config{.max_params = std::min(max_params, params_capacity)}),
      max_params_(std::min(max_params, params_capacity)),
      not_found_(default_not_found),
      error_(default_error),
      route_step_([this](request& req, response& res) { route_request(req, res); }) {}

void dispatcher::add(method m, std::string_view pattern, handler h, std::vector<std::shared_ptr<const middleware>> chain,
                     any_method any) {
  route r;
  r.fn = std::move(h);
  for (auto& mw : chain) r.chain.push_back(mw.get());
  r.owned = std::move(chain);
  if (any)
    router_.all(pattern, std::move(r));
  else
    router_.add(m, pattern, std::move(r));
}

void dispatcher::dispatch(request& req, response& res) const {
  std::array<const middleware*, 16> inline_chain;
  if (global_.size() <= inline_chain.size()) {
    for (std::size_t i = 0; i < global_.size(); ++i) inline_chain[i] = global_[i].get();
    next::run(req, res, std::span(inline_chain.data(), global_.size()), route_step_);
  } else {
    std::vector<const middleware*> chain;
    for (auto& mw : global_) chain.push_back(mw.get());
    next::run(req, res, chain, route_step_);
  }
}

void dispatcher::route_request(request& req, response& res) const {
  std::array<route_param, params_capacity> params;
  auto found = router_.find(req.method(), req.path(), std::span(params.data(), max_params_));
  if (!found) {
    if (found.error() == make_error_code(errc::method_not_allowed)) {
      res.status = 405;
      res.header("Allow", router_.allowed_methods(req.path()).to_string());
      res.content_type("text/plain");
      res.body = "Method Not Allowed";
      return;
    }
    not_found_(req, res);
    return;
  }
  request_access::set_route(req, found->params, found->rest);
  next::run(req, res, found->value->chain, found->value->fn);
}

void dispatcher::handle_error(request& req, response& res, std::exception_ptr error) const {
  error_(req, res, std::move(error));
}

}  // namespace dusty::http::detail
