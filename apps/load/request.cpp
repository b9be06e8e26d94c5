#include "request.hpp"

#include <strings.h>

namespace dusty::load {

std::string build_request(const load_options& o, const http::url& u, std::string_view body) {
  std::string r = o.method + " " + u.target + " HTTP/1.1\r\n";
  bool host_given = false;
  for (auto& [name, value] : o.headers) host_given |= ::strcasecmp(name.c_str(), "host") == 0;
  if (!host_given) r += "Host: " + u.authority() + "\r\n";
  for (auto& [name, value] : o.headers) r += name + ": " + value + "\r\n";
  if (o.body_file) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += "\r\n";
  r += body;
  return r;
}

}  // namespace dusty::load
