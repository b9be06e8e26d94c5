#include <dusty/http/h1/serializer.hpp>

#include <dusty/http/status.hpp>

namespace dusty::http::h1 {

void append_status_line(std::string& out, unsigned status) {
  out += "HTTP/1.1 ";
  append_number(out, status);
  out += ' ';
  out += reason_phrase(status);
  out += "\r\n";
}

}  // namespace dusty::http::h1
