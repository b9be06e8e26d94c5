#include <dusty/http/detail/exchange.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/log.hpp>

namespace dusty::http::detail {

exchange_result run_exchange(const dispatcher& routes, const server_config& config, request& req, response& res) {
  exchange_result out;
  try {
    if (config.timeouts.handler.count() > 0)
      with_timeout(config.timeouts.handler, [&] { routes.dispatch(req, res); });
    else
      routes.dispatch(req, res);
  } catch (const cancelled_error&) {
    throw;
  } catch (const client_gone&) {
    out.end = exchange_end::client_gone;
  } catch (const timeout_error&) {
    out.error = std::current_exception();
    if (res.head_sent()) {
      out.end = exchange_end::aborted;
    } else {
      res.reset();
      res.status = 503;
      res.content_type("text/plain");
      res.body = "Service Unavailable: the handler timed out";
    }
  } catch (...) {
    out.error = std::current_exception();
    if (res.head_sent()) {
      log::error("handler failed after the response head was sent for ", req.method_name(), " ", req.path());
      out.end = exchange_end::aborted;
    } else {
      try {
        res.clear_body();
        routes.handle_error(req, res, out.error);
      } catch (...) {
        out.end = exchange_end::aborted;
      }
    }
  }
  return out;
}

}  // namespace dusty::http::detail
