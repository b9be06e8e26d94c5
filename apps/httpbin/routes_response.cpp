// Endpoints that generate a response: fixed pages, random and streamed bytes, ranges,
// caching, content codings.
#include "httpbin.hpp"

#include <dusty/http/codec/base64.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/http/codec/conditional.hpp>
#include <dusty/http/codec/content_coding.hpp>
#include <dusty/http/codec/query.hpp>
#include <dusty/http/codec/range.hpp>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <random>

namespace httpbin {
namespace {

constexpr long long max_bytes = 100 * 1024;          // httpbin's limit for /bytes, /range ...
constexpr long long max_drip_bytes = 10 * 1024 * 1024;
constexpr double max_seconds = 10;                   // /delay's cap, applied to /drip too

// A path number as werkzeug's int converter takes it: digits only (anything else is
// 404, the route does not match), any size (saturated here; callers cap it anyway).
long long path_number(http::request& req, std::string_view name) {
  auto s = req.param(name);
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw http::status_error(404, "Not Found");
  if (s.size() > 18) return LLONG_MAX;
  return *parse_int(s);
}

// Query numbers parse like Python's int() and float(); a bad one is the client's error
// (httpbin answers 500 for it).
long long query_int(http::request& req, std::string_view key, long long fallback) {
  auto v = query_ci(req, key);
  if (!v) return fallback;
  auto n = parse_int(*v);
  if (!n) throw http::status_error(400, "query parameter " + std::string(key) + " must be an integer");
  return *n;
}

double query_float(http::request& req, std::string_view key, double fallback) {
  auto v = query_ci(req, key);
  if (!v) return fallback;
  auto n = parse_float(*v);
  if (!n) throw http::status_error(400, "query parameter " + std::string(key) + " must be a number");
  return *n;
}

std::mt19937_64 seeded_engine(http::request& req) {
  if (query_ci(req, "seed")) return std::mt19937_64(static_cast<std::uint64_t>(query_int(req, "seed", 0)));
  return std::mt19937_64(std::random_device{}());
}

void random_fill(std::mt19937_64& engine, std::string& out, std::size_t n) {
  out.resize(n);
  for (std::size_t i = 0; i < n; i += 8) {
    auto v = engine();
    for (std::size_t k = 0; k < 8 && i + k < n; ++k) out[i + k] = static_cast<char>(v >> (8 * k));
  }
}

void sleep_seconds(double s) {
  if (s > 0)
    dusty::sleep_for(std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s)));
}

void compressed_echo(http::request& req, http::response& res, http::content_coding coding) {
  json d = describe(req, origin | headers);
  d["method"] = std::string(req.method_name());
  d[coding == http::content_coding::gzip ? "gzipped" : "deflated"] = true;
  auto text = d.dump(-1, ' ', true, json::error_handler_t::replace) + "\n";
  // httpbin compresses these whatever the client accepts: that is what they are for.
  std::string out;
  http::compressor z(coding, coding == http::content_coding::gzip ? 4 : 6);
  z.write(text, out);
  z.finish(out);
  res.content_type("application/json");
  res.header("Content-Encoding", std::string(http::to_string(coding)));
  res.body = std::move(out);
}

void send_text(http::response& res, std::string_view type, std::string_view text) {
  res.content_type(type);
  res.body = text;
}

// httpbin's view_get, the body of /cache, /cache/:n and /etag/:etag.
void view_get(http::request& req, http::response& res) { send_json(res, describe(req, url | args | headers | origin)); }

}  // namespace

void install_response_routes(scope& srv) {
  srv.get("/html", [](http::request&, http::response& res) { send_text(res, "text/html; charset=utf-8", moby_html); });
  srv.get("/json", [](http::request&, http::response& res) { send_json(res, sample_json()); });
  srv.get("/robots.txt", [](http::request&, http::response& res) { send_text(res, "text/plain", robots_txt); });
  srv.get("/deny", [](http::request&, http::response& res) { send_text(res, "text/plain", deny_text); });
  srv.get("/encoding/utf8", [](http::request&, http::response& res) {
    send_text(res, "text/html; charset=utf-8", utf8_demo);
  });

  srv.get("/base64/:value", [](http::request& req, http::response& res) {
    auto value = http::percent_decode(req.param("value"));
    auto decoded = http::base64_decode(value, true);
    // httpbin answers 500 for bad padding or a result that is not UTF-8; a 400 says whose
    // mistake it is. (json_safe gives back its input exactly when that is UTF-8.)
    if (!decoded || json_safe(*decoded).get<std::string>() != *decoded)
      throw http::status_error(400, "Incorrect Base64 data try: SFRUUEJJTiBpcyBhd2Vzb21l");
    res.content_type("text/html; charset=utf-8");
    res.body = std::move(*decoded);
  });

  srv.get("/bytes/:n", [](http::request& req, http::response& res) {
    auto n = std::min(path_number(req, "n"), max_bytes);
    auto engine = seeded_engine(req);
    std::string out;
    random_fill(engine, out, static_cast<std::size_t>(n));
    res.content_type("application/octet-stream");
    res.body = std::move(out);
  });

  srv.get("/stream/:n", [](http::request& req, http::response& res) {
    auto n = std::min(path_number(req, "n"), 100LL);
    json d = describe(req, url | args | headers | origin);
    res.content_type("application/json");
    for (long long i = 0; i < n; ++i) {
      d["id"] = i;
      res.chunk(d.dump(-1, ' ', true, json::error_handler_t::replace) + "\n");
    }
  });

  srv.get("/stream-bytes/:n", [](http::request& req, http::response& res) {
    auto n = static_cast<std::size_t>(std::min(path_number(req, "n"), max_bytes));
    auto chunk_size = static_cast<std::size_t>(std::clamp(query_int(req, "chunk_size", 10 * 1024), 1LL, max_bytes));
    auto engine = seeded_engine(req);
    res.content_type("application/octet-stream");
    std::string piece;
    for (std::size_t sent = 0; sent < n; sent += piece.size()) {
      random_fill(engine, piece, std::min(chunk_size, n - sent));
      res.chunk(piece);
    }
  });

  // /drip: numbytes '*' over duration seconds after delay seconds, streamed. httpbin
  // sleeps after every byte; here the bytes go in at most 1000 timed pieces, so a large
  // drip costs a bounded number of writes.
  srv.get("/drip", [](http::request& req, http::response& res) {
    double duration = query_float(req, "duration", 2);
    long long numbytes = std::min(query_int(req, "numbytes", 10), max_drip_bytes);
    long long code = query_int(req, "code", 200);
    double delay = query_float(req, "delay", 0);
    if (numbytes <= 0) {
      res.status = 400;
      res.content_type("text/html; charset=utf-8");
      res.body = "number of bytes must be positive";
      return;
    }
    if (duration < 0 || code < 200 || code > 599)
      throw http::status_error(400, "duration must not be negative, code must be from 200 to 599");
    duration = std::min(duration, max_seconds);
    sleep_seconds(std::min(delay, max_seconds));
    res.status = static_cast<unsigned>(code);
    res.content_type("application/octet-stream");
    auto total = static_cast<std::size_t>(numbytes);
    std::size_t pieces = duration > 0 ? std::min<std::size_t>(total, 1000) : (total + 65535) / 65536;
    std::string stars;
    for (std::size_t i = 0, sent = 0; i < pieces; ++i) {
      std::size_t size = total / pieces + (i < total % pieces ? 1 : 0);
      stars.assign(size, '*');
      res.chunk(stars);
      sent += size;
      sleep_seconds(duration / static_cast<double>(pieces));
    }
  });

  // /range/:n: n bytes of "abcd...", with Range requests served by http::apply_range.
  srv.get("/range/:n", [](http::request& req, http::response& res) {
    auto n = path_number(req, "n");
    auto etag = http::make_etag("range" + std::to_string(n));
    if (n <= 0 || n > max_bytes) {
      res.status = 404;
      res.header("ETag", etag);
      res.header("Accept-Ranges", "bytes");
      res.body = "number of bytes must be in the range (0, 102400]";
      return;
    }
    auto chunk_size = static_cast<std::size_t>(std::clamp(query_int(req, "chunk_size", 10 * 1024), 1LL, max_bytes));
    double duration = std::clamp(query_float(req, "duration", 0), 0.0, max_seconds);
    res.header("ETag", etag);
    auto plan = http::apply_range(req, res, static_cast<std::uint64_t>(n), {.etag = etag});
    if (plan.status == 416) return;
    res.content_type("application/octet-stream");
    std::string body;
    body.reserve(plan.length());
    for (auto i = plan.first; i < plan.first + plan.length(); ++i) body += static_cast<char>('a' + i % 26);
    if (duration <= 0) {
      res.body = std::move(body);
      return;
    }
    double pause_per_byte = duration / static_cast<double>(n);
    for (std::size_t at = 0; at < body.size(); at += chunk_size) {
      auto piece = std::string_view(body).substr(at, chunk_size);
      sleep_seconds(pause_per_byte * static_cast<double>(piece.size()));
      res.chunk(piece);
    }
  });

  srv.get("/gzip", [](http::request& req, http::response& res) {
    compressed_echo(req, res, http::content_coding::gzip);
  });
  srv.get("/deflate", [](http::request& req, http::response& res) {
    compressed_echo(req, res, http::content_coding::deflate);
  });

  // /cache: any If-Modified-Since or If-None-Match is answered 304, as httpbin does (it
  // stands for a resource that never changes); otherwise /get with fresh validators.
  srv.get("/cache", [](http::request& req, http::response& res) {
    if (req.header("If-Modified-Since") || req.header("If-None-Match")) return status_response(res, 304);
    view_get(req, res);
    res.header("Last-Modified", http::format_http_date(std::chrono::system_clock::now()));
    std::uniform_int_distribution<std::uint64_t> dist;
    thread_local std::mt19937_64 engine{std::random_device{}()};
    char hex[33];
    std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(dist(engine)),
                  static_cast<unsigned long long>(dist(engine)));
    res.header("ETag", http::make_etag(hex));
  });
  srv.get("/cache/:n", [](http::request& req, http::response& res) {
    auto n = path_number(req, "n");
    view_get(req, res);
    res.header("Cache-Control", "public, max-age=" + std::to_string(n));
  });

  // /etag/:etag: the path names the current entity-tag. If-None-Match (weak comparison)
  // gives 304; otherwise a failed If-Match (strong) gives 412 — httpbin's order.
  srv.get("/etag/:etag", [](http::request& req, http::response& res) {
    auto raw = http::percent_decode(req.param("etag"));
    auto current = http::make_etag(raw);
    if (current.find_first_of("\r\n", 0) != std::string::npos || raw.find('"') != std::string::npos ||
        !http::parse_etag(current))
      throw http::status_error(400, "an entity-tag holds visible characters other than '\"'");
    if (auto inm = req.header("If-None-Match")) {
      if (http::if_none_match(*inm, current)) {
        status_response(res, 304);
        res.header("ETag", current);
        return;
      }
    } else if (auto im = req.header("If-Match"); im && !http::if_match(*im, current)) {
      return status_response(res, 412);
    }
    view_get(req, res);
    res.header("ETag", current);
  });
}

}  // namespace httpbin
