#pragma once
// status_error: an exception that carries the HTTP status to answer with. Thrown by the
// request accessors (a body over max_body_size is 413, malformed JSON is 400, ...) and
// by handlers that want to stop with a given status: throw status_error(404, "no such user").
// The server's error handler turns it into a response with that status and the message
// as a text body; any other exception becomes 500.
#include <dusty/http/status.hpp>

#include <stdexcept>
#include <string>

namespace dusty::http {

class status_error : public std::runtime_error {
 public:
  status_error(unsigned status, const std::string& message) : std::runtime_error(message), status_(status) {}
  status_error(http::status status, const std::string& message)
      : status_error(static_cast<unsigned>(status), message) {}
  unsigned status() const noexcept { return status_; }

 private:
  unsigned status_;
};

}  // namespace dusty::http
