#include <dusty/http/detail/date_cache.hpp>

#include <ctime>

namespace dusty::http::detail {

std::string_view http_date() noexcept {
  thread_local time_t cached_second = -1;
  thread_local char text[32];
  timespec now;
  ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
  if (now.tv_sec != cached_second) {
    cached_second = now.tv_sec;
    tm utc;
    ::gmtime_r(&now.tv_sec, &utc);
    ::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  }
  return {text, 29};
}

}  // namespace dusty::http::detail
