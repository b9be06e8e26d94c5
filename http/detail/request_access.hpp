#pragma once
// The server's side of a request: what a protocol, the dispatcher and http::testing set
// before a handler runs. Handlers never see these setters.
#include <dusty/http/request.hpp>

namespace dusty::http::detail {

struct request_access {
  static void set_route(request& r, std::span<const route_param> params, std::string_view glob) noexcept {
    r.params_ = params;
    r.glob_ = glob;
  }
  static void set_remote_address(request& r, const net::socket_address& a) { r.remote_ = a; }
  /// The shard's application context of a server<App>.
  static void set_app(request& r, void* app) noexcept { r.app_ = app; }
  static void* app(const request& r) noexcept { return r.app_; }
};

}  // namespace dusty::http::detail
