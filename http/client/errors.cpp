#include <dusty/http/client/errors.hpp>

#include <dusty/core/error.hpp>
#include <dusty/net/error.hpp>
#include <dusty/net/tls/stream.hpp>

namespace dusty::http::detail {

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  if (ms > 1000) {
    auto tenths = ms / 100;
    if (ms % 100 == 0) return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + "s";
  }
  return std::to_string(ms) + "ms";
}

std::string format_size(std::uint64_t n) {
  constexpr std::uint64_t kib = 1024, mib = kib * 1024, gib = mib * 1024;
  if (n >= gib && n % gib == 0) return std::to_string(n / gib) + " GiB";
  if (n >= mib && n % mib == 0) return std::to_string(n / mib) + " MiB";
  if (n >= kib && n % kib == 0) return std::to_string(n / kib) + " KiB";
  return std::to_string(n) + " bytes";
}

std::string_view tls_detail(client_connection& c) noexcept {
  auto* s = dynamic_cast<net::tls::stream*>(&c.stream());
  return s != nullptr ? std::string_view(s->error_detail()) : std::string_view();
}

client_error transfer_error(std::error_code ec, std::string_view doing, const fetch_context& ctx,
                            std::string_view detail) {
  std::string where = std::string(doing) + " " + ctx.peer;
  if (ec == dusty::errc::timed_out) {
    // Which limit passed: the whole request's, or the gap between bytes.
    bool whole = ctx.request_deadline != no_deadline && std::chrono::steady_clock::now() >= ctx.request_deadline;
    auto limit = whole || ctx.read_timeout.count() == 0 ? ctx.request_timeout : ctx.read_timeout;
    return client_error(ec, "timeout after " + format_duration(limit) + " " + where);
  }
  if (ec == dusty::errc::eof) {
    return client_error(ec, "connection closed by " + ctx.peer + " while " + std::string(doing.substr(0, doing.rfind(' '))));
  }
  if (ec == errc::invalid_response) return client_error(ec, "invalid response " + where);
  if (!detail.empty() && ec.category() == net::error_category() && ec != net::errc::tls_truncated) {
    return client_error(ec, where + ": " + std::string(detail));
  }
  if (ec == errc::response_too_large) return client_error(ec, "response head too large " + where);
  return client_error(ec, where + ": " + ec.message());
}

client_error too_large_error(const fetch_context& ctx) {
  return client_error(make_error_code(errc::response_too_large),
                      "response larger than " + format_size(ctx.max_response_size) + " from " + ctx.peer);
}

}  // namespace dusty::http::detail
