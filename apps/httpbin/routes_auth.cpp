// Redirects, cookies and authentication: /redirect/:n and friends, /redirect-to,
// /cookies, /cookies/set, /cookies/delete, /basic-auth, /hidden-basic-auth, /bearer.
#include "httpbin.hpp"

#include <dusty/http/codec/base64.hpp>
#include <dusty/http/codec/cookie.hpp>
#include <dusty/http/codec/html.hpp>
#include <dusty/http/codec/query.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <map>

namespace httpbin {
namespace {

// Cookies a proxy in front of httpbin.org sets; hidden unless ?show_env.
constexpr std::array<std::string_view, 8> env_cookies = {"_gauges_unique",      "_gauges_unique_year",
                                                         "_gauges_unique_month", "_gauges_unique_day",
                                                         "_gauges_unique_hour",  "__utmz",
                                                         "__utma",               "__utmb"};

long long redirect_count(http::request& req) {
  auto s = req.param("n");
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw http::status_error(404, "Not Found");
  auto n = s.size() > 18 ? LLONG_MAX : *parse_int(s);
  if (n <= 0) throw http::status_error(400, "the number of redirects must be positive");  // httpbin: 500
  return n;
}

bool header_value_safe(std::string_view v) {
  return std::none_of(v.begin(), v.end(), [](char c) { return (c < ' ' && c != '\t') || c == 0x7f; });
}

// werkzeug.utils.redirect: 302 with a small HTML page naming the target.
void redirect(http::response& res, std::string_view location, unsigned status = 302) {
  res.status = status;
  res.header("Location", location);
  res.content_type("text/html; charset=utf-8");
  auto l = dusty::http::html_escape(location);
  res.body = "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
             "<p>You should be redirected automatically to the target URL: <a href=\"" +
             l + "\">" + l + "</a>. If not, click the link.\n";
}

// Location only, empty body: httpbin's relative redirects build the response by hand.
void bare_redirect(http::response& res, std::string_view location, unsigned status = 302) {
  res.status = status;
  res.header("Location", location);
  res.content_type("text/html; charset=utf-8");
}

bool is_https(http::request& req) { return base_url(req).starts_with("https:"); }

void set_cookies_from_query(http::request& req, http::response& res, bool remove) {
  // dict(request.args.items()): the first value of each name.
  std::map<std::string_view, std::string_view> cookies;
  for (const auto& p : req.query()) cookies.try_emplace(p.key, p.value);
  for (auto [name, value] : cookies) {
    http::set_cookie c;
    c.name = name;
    c.path = "/";
    if (remove) {
      c.expires = std::chrono::system_clock::time_point{};
      c.max_age = std::chrono::seconds(0);
    } else {
      c.value = value;
      c.secure = is_https(req);
    }
    try {
      res.set_cookie(c);
    } catch (const std::invalid_argument&) {
      throw http::status_error(400, "a cookie name must be a token and a value may not hold spaces, quotes, ',', ';' or '\\'");
    }
  }
  redirect(res, "/cookies");
}

std::optional<std::pair<std::string, std::string>> basic_credentials(const http::request& req) {
  auto auth = req.header("Authorization");
  if (!auth) return std::nullopt;
  auto space = auth->find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto scheme = auth->substr(0, space);
  if (scheme.size() != 5 || !std::equal(scheme.begin(), scheme.end(), "basic", [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
      }))
    return std::nullopt;
  auto decoded = http::base64_decode(auth->substr(space + 1), false);
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

void basic_auth(http::request& req, http::response& res, unsigned failure_status) {
  auto user = http::percent_decode(req.param("user"));
  auto passwd = http::percent_decode(req.param("passwd"));
  auto creds = basic_credentials(req);
  if (!creds || creds->first != user || creds->second != passwd) return status_response(res, failure_status);
  send_json(res, json{{"authenticated", true}, {"user", json_safe(user)}});
}

}  // namespace

void install_auth_routes(scope& srv) {
  srv.get("/redirect/:n", [](http::request& req, http::response& res) {
    auto n = redirect_count(req);
    auto absolute = query_ci(req, "absolute");
    bool abs = false;
    if (absolute) {
      std::string lower(*absolute);
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      abs = lower == "true";
    }
    std::string prefix = abs ? base_url(req) : "";
    if (n == 1) return redirect(res, prefix + "/get");
    redirect(res, prefix + (abs ? "/absolute-redirect/" : "/relative-redirect/") + std::to_string(n - 1));
  });
  srv.get("/relative-redirect/:n", [](http::request& req, http::response& res) {
    auto n = redirect_count(req);
    bare_redirect(res, n == 1 ? std::string("/get") : "/relative-redirect/" + std::to_string(n - 1));
  });
  srv.get("/absolute-redirect/:n", [](http::request& req, http::response& res) {
    auto n = redirect_count(req);
    redirect(res, base_url(req) + (n == 1 ? std::string("/get") : "/absolute-redirect/" + std::to_string(n - 1)));
  });
  auto redirect_to = [](http::request& req, http::response& res) {
    auto url = query_ci(req, "url");
    if (!url) throw http::status_error(400, "the url query parameter is required");
    if (!header_value_safe(*url)) throw http::status_error(400, "url may not hold control characters");
    unsigned status = 302;
    if (auto code = query_ci(req, "status_code")) {
      auto n = parse_int(*code);
      if (!n) throw http::status_error(400, "status_code must be an integer");
      if (*n >= 300 && *n < 400) status = static_cast<unsigned>(*n);
    }
    bare_redirect(res, *url, status);
  };
  for (auto m : {http::method::get, http::method::post, http::method::put, http::method::delete_, http::method::patch})
    srv.add(m, "/redirect-to", redirect_to);

  srv.get("/cookies", [](http::request& req, http::response& res) {
    bool show_env = req.query().contains("show_env");
    json cookies = json::object();
    for (const auto& h : req.headers()) {
      if (h.name.size() != 6 || !std::equal(h.name.begin(), h.name.end(), "cookie", [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == b;
          }))
        continue;
      http::for_each_cookie(h.value, [&](std::string_view name, std::string_view value) {
        std::string key(name);
        if (!show_env && std::find(env_cookies.begin(), env_cookies.end(), name) != env_cookies.end()) return;
        if (!cookies.contains(key)) cookies[key] = json_safe(value);
      });
    }
    send_json(res, json{{"cookies", cookies}});
  });
  srv.get("/cookies/set", [](http::request& req, http::response& res) { set_cookies_from_query(req, res, false); });
  srv.get("/cookies/delete", [](http::request& req, http::response& res) { set_cookies_from_query(req, res, true); });
  srv.get("/cookies/set/:name/:value", [](http::request& req, http::response& res) {
    http::set_cookie c;
    c.name = http::percent_decode(req.param("name"));
    c.value = http::percent_decode(req.param("value"));
    c.path = "/";
    c.secure = is_https(req);
    try {
      res.set_cookie(c);
    } catch (const std::invalid_argument&) {
      throw http::status_error(400, "invalid cookie name or value");
    }
    redirect(res, "/cookies");
  });

  srv.get("/basic-auth/:user/:passwd", [](http::request& req, http::response& res) { basic_auth(req, res, 401); });
  srv.get("/hidden-basic-auth/:user/:passwd",
          [](http::request& req, http::response& res) { basic_auth(req, res, 404); });

  srv.get("/bearer", [](http::request& req, http::response& res) {
    auto auth = req.header("Authorization");
    if (!auth) {
      res.status = 401;
      res.header("WWW-Authenticate", "Bearer");
      res.content_type("text/html; charset=utf-8");
      return;
    }
    // httpbin takes the token as authorization.lstrip('Bearer '): every leading
    // character from the set {B, e, a, r, space}, not the prefix. Clients that test
    // against httpbin see exactly that token, so it is kept.
    auto token = *auth;
    auto start = token.find_first_not_of("Bear ");
    token = start == std::string_view::npos ? std::string_view() : token.substr(start);
    send_json(res, json{{"authenticated", true}, {"token", json_safe(token)}});
  });
}

}  // namespace httpbin
