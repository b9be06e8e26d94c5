#include <dusty/core/error.hpp>

#include <charconv>

namespace dusty {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "dusty.core"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::cancelled: return "operation cancelled";
      case errc::timed_out: return "timed out";
      case errc::eof: return "end of stream";
      case errc::invalid_config: return "invalid configuration";
      case errc::not_in_fiber: return "suspending call outside a fiber";
      case errc::broken_promise: return "cross-core task dropped without a result";
      case errc::closed: return "closed";
    }
    return "unknown dusty error";
  }
  std::error_condition default_error_condition(int ev) const noexcept override {
    switch (static_cast<errc>(ev)) {
      case errc::cancelled: return std::errc::operation_canceled;
      case errc::timed_out: return std::errc::timed_out;
      default: return {ev, *this};
    }
  }
};

std::string describe(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  double value = duration<double, std::micro>(d).count();
  const char* unit = "us";
  if (d >= seconds(1)) value = duration<double>(d).count(), unit = "s";
  else if (d >= milliseconds(1)) value = duration<double, std::milli>(d).count(), unit = "ms";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 4);
  return std::string(buf, r.ptr) + unit;
}

}  // namespace

const std::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

timeout_error::timeout_error(std::chrono::nanoseconds after)
    : std::system_error(make_error_code(errc::timed_out), "timed out after " + describe(after)) {}

}  // namespace dusty
