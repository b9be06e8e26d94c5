#include <dusty/http/health.hpp>

namespace dusty::http::detail {

void answer_health(response& res, bool ok, std::string_view text) {
  res.status = ok ? 200 : 503;
  res.content_type("text/plain");
  res.header("Cache-Control", "no-store");
  res.body = text;
}

}  // namespace dusty::http::detail
