#pragma once
// The one per-request policy, the same for every protocol (HTTP/1 now, HTTP/2 next) and
// for http::testing: run the routes under the handler deadline, and decide what an
// exception turns into. The protocol reads the request before and sends the response
// after; everything between is here.
#include <dusty/http/detail/dispatcher.hpp>
#include <dusty/http/request.hpp>
#include <dusty/http/response.hpp>
#include <dusty/http/server_config.hpp>

#include <exception>

namespace dusty::http::detail {

/// How a request's run through the routes ended.
enum class exchange_end {
  answered,     ///< `res` holds the answer (or the end of a streamed one) to send.
  client_gone,  ///< A send found the client gone: nothing more to send.
  aborted,      ///< It failed after the head was sent: the connection must end.
};

struct exchange_result {
  exchange_end end = exchange_end::answered;
  /// The exception that ended the handler, if one did (also when it was answered).
  std::exception_ptr error;
};

/// Runs `req` through `routes` (middleware, route, handler) within timeouts.handler.
/// - A handler that times out before sending anything is answered 503 (the server gave
///   up; no upstream did, so not 504).
/// - Any other exception goes to the error handler, with the body the handler had built
///   dropped (its status and headers stay for the error handler to see).
/// - After the head was sent, nothing can be answered: `aborted`, and one log line.
/// Throws only cancelled_error (the connection is being torn down). Call from the
/// request's fiber; suspends while the handler does.
exchange_result run_exchange(const dispatcher& routes, const server_config& config, request& req, response& res);

}  // namespace dusty::http::detail
