// Endpoints that describe the request back to the client: /get, /post, /anything ...,
// /headers, /ip, /user-agent, /uuid, /delay/:n, /status/:codes, /response-headers.
#include "httpbin.hpp"

#include <dusty/core/fiber.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

namespace httpbin {
namespace {

constexpr unsigned echo_fields = url | args | form | data | origin | headers | files | json_body;

std::mt19937_64& rng() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

std::string uuid4() {
  std::uniform_int_distribution<std::uint64_t> dist;
  std::uint64_t hi = dist(rng()), lo = dist(rng());
  hi = (hi & ~0xf000ull) | 0x4000ull;                          // version 4
  lo = (lo & ~(0xc000ull << 48)) | (0x8000ull << 48);          // RFC 4122 variant
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffull));
  return buf;
}

bool valid_code(long long c) { return c >= 200 && c <= 599; }

// /status/:codes: "418", or "200,500" (uniform), or "200:0.9,500:0.1" (weighted), the
// choice made like httpbin's utils.weighted_choice.
void status_codes(http::request& req, http::response& res) {
  auto codes = req.param("codes");
  auto invalid = [&] {
    res.status = 400;
    res.content_type("text/html; charset=utf-8");
    res.body = "Invalid status code";
  };
  if (codes.find(',') == std::string_view::npos) {
    auto code = parse_int(codes);
    if (!code || !valid_code(*code)) return invalid();
    return status_response(res, static_cast<unsigned>(*code));
  }
  std::vector<std::pair<unsigned, double>> choices;
  double total = 0;
  while (true) {
    auto comma = codes.find(',');
    auto choice = codes.substr(0, comma);
    auto colon = choice.find(':');
    auto code = parse_int(choice.substr(0, colon));
    std::optional<double> weight = 1.0;
    if (colon != std::string_view::npos) weight = parse_float(choice.substr(colon + 1));
    if (!code || !valid_code(*code) || !weight || *weight < 0 || choices.size() == 100) return invalid();
    choices.emplace_back(static_cast<unsigned>(*code), *weight);
    total += *weight;
    if (comma == std::string_view::npos) break;
    codes.remove_prefix(comma + 1);
  }
  double x = std::uniform_real_distribution<double>(0, total)(rng());
  double cumulative = 0;
  unsigned chosen = choices.back().first;
  for (auto [code, weight] : choices) {
    cumulative += weight;
    if (x < cumulative) {
      chosen = code;
      break;
    }
  }
  status_response(res, chosen);
}

bool header_safe(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name)
    if (c <= ' ' || c == ':' || c == 0x7f || static_cast<unsigned char>(c) >= 0x80) return false;
  for (char c : value)
    if ((c < ' ' && c != '\t') || c == 0x7f) return false;
  return true;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// /response-headers?k=v: each query pair becomes a response header, and the JSON body
// lists every response header, Content-Length included, so the body is rebuilt until the
// length it states is its own.
void response_headers(http::request& req, http::response& res) {
  std::vector<std::pair<std::string, std::string>> extra;
  for (const auto& p : req.query()) {
    if (!header_safe(p.key, p.value)) throw http::status_error(400, "invalid header name or value");
    extra.emplace_back(std::string(p.key), std::string(p.value));
  }
  std::string body;
  std::size_t length = 0;
  for (int round = 0; round < 8; ++round) {
    std::vector<std::pair<std::string, std::string>> all = {{"Content-Type", "application/json"},
                                                            {"Content-Length", std::to_string(length)}};
    all.insert(all.end(), extra.begin(), extra.end());
    json d = json::object();
    for (const auto& [name, _] : all) {
      json values = json::array();
      for (const auto& [n, v] : all)
        if (iequal(n, name)) values.push_back(v);
      d[name] = values.size() == 1 ? values[0] : values;
    }
    body = d.dump(-1, ' ', true, json::error_handler_t::replace) + "\n";
    if (body.size() == length) break;
    length = body.size();
  }
  res.content_type("application/json");
  for (const auto& [n, v] : extra) {
    // The server frames the body itself; a Content-Length from the query would lie.
    if (iequal(n, "content-length") || iequal(n, "transfer-encoding") || iequal(n, "connection")) continue;
    if (iequal(n, "content-type"))
      res.content_type(v);
    else
      res.header(n, v);
  }
  res.body = std::move(body);
}

}  // namespace

void install_request_routes(scope& srv) {
  auto echo = [](http::request& req, http::response& res) { send_json(res, describe(req, echo_fields)); };
  srv.get("/get", [](http::request& req, http::response& res) {
    send_json(res, describe(req, url | args | headers | origin));
  });
  srv.post("/post", echo);
  srv.put("/put", echo);
  srv.patch("/patch", echo);
  srv.delete_("/delete", echo);
  // Flask's /anything takes GET, POST, PUT, DELETE, PATCH and TRACE (HEAD and OPTIONS
  // come with any route); "/anything/*" matches /anything itself too.
  srv.all("/anything/*", [](http::request& req, http::response& res) {
    static constexpr std::string_view allowed[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "TRACE"};
    if (std::find(std::begin(allowed), std::end(allowed), req.method_name()) == std::end(allowed)) {
      res.status = 405;
      res.header("Allow", "GET, HEAD, POST, PUT, DELETE, PATCH, TRACE, OPTIONS");
      return;
    }
    send_json(res, describe(req, echo_fields | method));
  });
  srv.get("/headers", [](http::request& req, http::response& res) {
    send_json(res, json{{"headers", header_object(req)}});
  });
  srv.get("/ip", [](http::request& req, http::response& res) { send_json(res, json{{"origin", origin_of(req)}}); });
  srv.get("/user-agent", [](http::request& req, http::response& res) {
    auto ua = req.header("User-Agent");
    send_json(res, json{{"user-agent", ua ? json(std::string(*ua)) : json(nullptr)}});
  });
  srv.get("/uuid", [](http::request&, http::response& res) { send_json(res, json{{"uuid", uuid4()}}); });

  // /delay/:n sleeps on a fiber timer: thousands of delayed requests cost a parked fiber
  // each, not a thread. httpbin caps the delay at 10 s; a negative or non-numeric one is
  // a client error here (httpbin answers 500).
  srv.get("/delay/:n", [](http::request& req, http::response& res) {
    auto seconds = parse_float(req.param("n"));
    if (!seconds || *seconds < 0) throw http::status_error(400, "delay must be a number of seconds from 0 to 10");
    dusty::sleep_for(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(std::min(*seconds, 10.0))));
    send_json(res, describe(req, url | args | form | data | origin | headers | files));
  });

  for (auto m : {http::method::get, http::method::post, http::method::put, http::method::delete_, http::method::patch})
    srv.add(m, "/status/:codes", status_codes);
  srv.get("/response-headers", response_headers);
  srv.post("/response-headers", response_headers);
}

}  // namespace httpbin
