#include <dusty/http/middleware/cors.hpp>

#include <dusty/http/fields.hpp>

#include <dusty/http/detail/ascii.hpp>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace dusty::http {
namespace {

struct policy {
  bool any_origin = false;
  bool any_header = false;
  bool credentials = false;
  // The answer depends on the Origin: a list of origins, or "*" echoed for credentials.
  bool varies = false;
  std::vector<std::string> origins;
  std::vector<std::string> methods;
  std::vector<std::string> headers;
  std::string methods_value;
  std::string headers_value;
  std::string exposed_value;
  std::string max_age_value;
  std::string preflight_vary;

  bool allows_origin(std::string_view origin) const noexcept {
    return any_origin || std::find(origins.begin(), origins.end(), origin) != origins.end();
  }
  bool allows_method(std::string_view m) const noexcept {
    return std::find(methods.begin(), methods.end(), m) != methods.end();
  }
  bool allows_header(std::string_view h) const noexcept {
    return any_header ||
           std::any_of(headers.begin(), headers.end(), [h](const std::string& a) { return detail::iequals(a, h); });
  }
  // With "*" and no credentials the literal "*" is sent, which keeps the response
  // cacheable for every origin.
  std::string_view allow_origin_value(std::string_view origin) const noexcept {
    return any_origin && !credentials ? std::string_view("*") : origin;
  }
};

void check_entries(const std::vector<std::string>& list, const char* what) {
  for (const auto& v : list) {
    if (v.empty() || !is_valid_field_value(v))
      throw std::invalid_argument(std::string("cors: invalid entry in ") + what + ": '" + v + "'");
  }
}

std::string join(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& v : list) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

void refuse(response& res, std::string_view reason) {
  res.status = 403;
  res.content_type("text/plain");
  res.body = "CORS preflight refused: " + std::string(reason);
}

void preflight(const policy& p, request& req, response& res, std::string_view origin, std::string_view method) {
  res.header("Vary", p.preflight_vary);
  if (!p.allows_origin(origin)) return refuse(res, "origin not allowed");
  if (!p.allows_method(method)) return refuse(res, "method " + std::string(method) + " not allowed");
  // Access-Control-Request-Headers is a comma-separated list of field names (browsers send
  // them lower-cased and sorted, but any case is accepted here).
  std::string_view requested = req.header("Access-Control-Request-Headers").value_or(std::string_view());
  for (std::string_view rest = requested; !rest.empty();) {
    auto comma = rest.find(',');
    auto name = detail::trim_ows(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (!name.empty() && !p.allows_header(name)) return refuse(res, "header " + std::string(name) + " not allowed");
  }

  res.status = 204;
  res.header("Access-Control-Allow-Origin", p.allow_origin_value(origin));
  if (p.credentials) res.header("Access-Control-Allow-Credentials", "true");
  res.header("Access-Control-Allow-Methods", p.methods_value);
  if (p.any_header) {
    auto trimmed = detail::trim_ows(requested);
    if (!trimmed.empty()) res.header("Access-Control-Allow-Headers", trimmed);
  } else if (!p.headers_value.empty()) {
    res.header("Access-Control-Allow-Headers", p.headers_value);
  }
  if (!p.max_age_value.empty()) res.header("Access-Control-Max-Age", p.max_age_value);
}

}  // namespace

middleware cors(cors_config config) {
  if (config.allowed_origins.empty()) throw std::invalid_argument("cors: allowed_origins is empty");
  check_entries(config.allowed_origins, "allowed_origins");
  check_entries(config.allowed_methods, "allowed_methods");
  check_entries(config.allowed_headers, "allowed_headers");
  check_entries(config.exposed_headers, "exposed_headers");

  auto p = std::make_shared<policy>();
  auto is_star = [](const std::string& v) { return v == "*"; };
  p->any_origin = std::any_of(config.allowed_origins.begin(), config.allowed_origins.end(), is_star);
  p->any_header = std::any_of(config.allowed_headers.begin(), config.allowed_headers.end(), is_star);
  p->credentials = config.allow_credentials;
  p->varies = !p->any_origin || p->credentials;
  p->origins = std::move(config.allowed_origins);
  p->methods = std::move(config.allowed_methods);
  p->headers = std::move(config.allowed_headers);
  p->methods_value = join(p->methods);
  p->headers_value = join(p->headers);
  p->exposed_value = join(config.exposed_headers);
  if (config.max_age.count() > 0) p->max_age_value = std::to_string(config.max_age.count());
  p->preflight_vary = p->varies ? "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
                                : "Access-Control-Request-Method, Access-Control-Request-Headers";

  return [p = std::shared_ptr<const policy>(std::move(p))](request& req, response& res, const next& next) {
    auto origin = req.header("Origin");
    if (origin && req.method() == method::options) {
      if (auto requested = req.header("Access-Control-Request-Method")) {
        preflight(*p, req, res, *origin, *requested);
        return;
      }
    }
    if (p->varies) res.header("Vary", "Origin");
    if (origin && p->allows_origin(*origin)) {
      res.header("Access-Control-Allow-Origin", p->allow_origin_value(*origin));
      if (p->credentials) res.header("Access-Control-Allow-Credentials", "true");
      if (!p->exposed_value.empty()) res.header("Access-Control-Expose-Headers", p->exposed_value);
    }
    next();
  };
}

}  // namespace dusty::http
