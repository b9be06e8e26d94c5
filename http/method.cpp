#include <dusty/http/method.hpp>

namespace dusty::http {

std::string_view to_string(method m) noexcept {
  switch (m) {
    case method::get: return "GET";
    case method::head: return "HEAD";
    case method::post: return "POST";
    case method::put: return "PUT";
    case method::patch: return "PATCH";
    case method::delete_: return "DELETE";
    case method::options: return "OPTIONS";
    case method::connect: return "CONNECT";
    case method::trace: return "TRACE";
    case method::other: break;
  }
  return "OTHER";
}

method method_from_string(std::string_view token) noexcept {
  for (unsigned i = 0; i < known_method_count; ++i) {
    auto m = static_cast<method>(i);
    if (to_string(m) == token) {
      return m;
    }
  }
  return method::other;
}

std::string method_set::to_string() const {
  std::string out;
  for (unsigned i = 0; i < known_method_count; ++i) {
    auto m = static_cast<method>(i);
    if (contains(m)) {
      if (!out.empty()) {
        out += ", ";
      }
      out += http::to_string(m);
    }
  }
  return out;
}

}  // namespace dusty::http
