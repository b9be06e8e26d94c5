#pragma once
// Prometheus' text exposition format (version 0.0.4), written line by line:
//
//   # HELP dusty_http_requests_total Requests answered, by status class.
//   # TYPE dusty_http_requests_total counter
//   dusty_http_requests_total{shard="0",status_class="2xx"} 1027
//
// Names and label values are the caller's and must already be valid (the metrics here
// use fixed names and numeric or fixed label values, so nothing needs escaping).
#include <cstdint>
#include <string>
#include <string_view>

namespace dusty::http::detail {

class prometheus_text {
 public:
  /// The content type a scrape's answer carries.
  static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

  /// Starts a metric family: its HELP and TYPE lines. `type`: counter, gauge, histogram.
  void family(std::string_view name, std::string_view type, std::string_view help);
  /// One sample: `name{labels} value`; `labels` is what goes between the braces.
  void sample(std::string_view name, std::string_view labels, std::uint64_t value);
  void sample(std::string_view name, std::string_view labels, double value);

  const std::string& text() const noexcept { return out_; }
  std::string take() noexcept { return std::move(out_); }

 private:
  void begin_sample(std::string_view name, std::string_view labels);
  std::string out_;
};

}  // namespace dusty::http::detail
