#include <dusty/http/detail/prometheus_text.hpp>

#include <charconv>

namespace dusty::http::detail {

void prometheus_text::family(std::string_view name, std::string_view type, std::string_view help) {
  out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void prometheus_text::begin_sample(std::string_view name, std::string_view labels) {
  out_.append(name);
  if (!labels.empty()) out_.append("{").append(labels).append("}");
  out_ += ' ';
}

void prometheus_text::sample(std::string_view name, std::string_view labels, std::uint64_t value) {
  begin_sample(name, labels);
  char buf[24];
  out_.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr).append("\n");
}

void prometheus_text::sample(std::string_view name, std::string_view labels, double value) {
  begin_sample(name, labels);
  // Shortest round-trip form: 0.00025, 2.5, 10 (Go's ParseFloat reads them all).
  char buf[32];
  out_.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr).append("\n");
}

}  // namespace dusty::http::detail
