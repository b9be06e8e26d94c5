#pragma once
// Handlers and middleware.
//
// A handler answers a request: void(request&, response&), or, on a server<App>,
// void(App&, request&, response&) with the calling shard's App.
//
// A middleware wraps what comes after it (further middleware, then the handler). It may
// act before and after calling next(), or answer on its own and not call it at all, as
// http.zig's dispatchers do:
//
//   srv.use([](request& req, response& res, const next& next) {
//     auto start = std::chrono::steady_clock::now();
//     next();
//     res.header("Server-Timing", "app;dur=" + std::to_string(ms_since(start)));
//   });
//
// Handlers and middleware run on every shard at once: they must not share mutable state
// without synchronisation. Keep per-shard state in the App or a sharded<T>.
#include <dusty/http/request.hpp>
#include <dusty/http/response.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <span>

namespace dusty::http {

using handler = std::function<void(request&, response&)>;
class next;
using middleware = std::function<void(request&, response&, const next&)>;
/// Answers for an exception that escaped a handler or middleware.
using error_handler = std::function<void(request&, response&, std::exception_ptr)>;

/// Runs the rest of a middleware chain.
class next {
 public:
  void operator()() const { run(req_, res_, chain_, final_); }

  /// Runs `chain` around `final`.
  static void run(request& req, response& res, std::span<const middleware* const> chain, const handler& final) {
    if (chain.empty())
      final(req, res);
    else
      (*chain.front())(req, res, next(req, res, chain.subspan(1), final));
  }

 private:
  next(request& req, response& res, std::span<const middleware* const> chain, const handler& final) noexcept
      : req_(req), res_(res), chain_(chain), final_(final) {}
  request& req_;
  response& res_;
  std::span<const middleware* const> chain_;
  const handler& final_;
};

}  // namespace dusty::http
