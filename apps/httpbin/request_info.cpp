// What httpbin tells a client about its request (helpers.get_dict and friends), and the
// small parsing and formatting helpers every route file uses.
#include "httpbin.hpp"

#include <dusty/http/codec/base64.hpp>
#include <dusty/http/codec/form.hpp>
#include <dusty/http/codec/multipart.hpp>

#include <array>
#include <charconv>
#include <climits>
#include <cmath>
#include <map>
#include <vector>

namespace httpbin {
namespace {

// Headers a proxy in front of httpbin.org adds; httpbin hides them unless ?show_env.
constexpr std::array<std::string_view, 15> env_headers = {
    "X-Varnish",        "X-Request-Start",       "X-Heroku-Queue-Depth", "X-Real-Ip",
    "X-Forwarded-Proto", "X-Forwarded-Protocol", "X-Forwarded-Ssl",      "X-Heroku-Queue-Wait-Time",
    "X-Forwarded-For",  "X-Heroku-Dynos-In-Use", "X-Forwarded-Port",     "X-Request-Id",
    "Via",              "Total-Route-Time",      "Connect-Time"};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// WSGI servers turn "x-b3_id" into HTTP_X_B3_ID and werkzeug back into "X-B3-Id":
// '_' becomes '-', then Python's str.title() (upper case after every non-letter).
std::string wsgi_header_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  bool after_letter = false;
  for (char c : name) {
    if (c == '_') c = '-';
    if (is_letter(c)) {
      c = after_letter ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                       : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      after_letter = true;
    } else {
      after_letter = false;
    }
    out += c;
  }
  return out;
}

// Strict UTF-8 (no overlongs, surrogates or values past U+10FFFF), as Python decodes.
bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    unsigned cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = cp << 6 | (d & 0x3f);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
      return false;
    i += n + 1;
  }
  return true;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// werkzeug shows the URL as an IRI: escaped UTF-8 sequences appear decoded.
std::string iri(std::string_view target) {
  std::string out;
  out.reserve(target.size());
  std::size_t i = 0;
  while (i < target.size()) {
    if (target[i] == '%' && i + 2 < target.size() && hex(target[i + 1]) >= 8 && hex(target[i + 2]) >= 0) {
      // A run of escaped non-ASCII bytes: decode it when it is valid UTF-8.
      std::size_t j = i;
      std::string bytes;
      while (j + 2 < target.size() && target[j] == '%' && hex(target[j + 1]) >= 8 && hex(target[j + 2]) >= 0) {
        bytes += static_cast<char>(hex(target[j + 1]) << 4 | hex(target[j + 2]));
        j += 3;
      }
      if (is_utf8(bytes))
        out += bytes;
      else
        out.append(target.substr(i, j - i));
      i = j;
    } else {
      out += target[i++];
    }
  }
  return out;
}

// MultiDict.to_dict(flat=False) with single values unwrapped (httpbin's semiflatten).
json semiflatten(const std::map<std::string, std::vector<json>>& multi) {
  json out = json::object();
  for (const auto& [k, values] : multi) out[k] = values.size() == 1 ? values.front() : json(values);
  return out;
}

struct body_parts {
  json form = json::object();
  json files = json::object();
  std::string data;
};

std::string_view mime_type(std::string_view content_type) {
  auto semi = content_type.find(';');
  auto t = content_type.substr(0, semi);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  return t;
}

[[noreturn]] void reject(const std::error_code& ec, std::string_view what) {
  throw http::status_error(http::status_for(ec), std::string(what) + ": " + ec.message());
}

body_parts read_body(http::request& req) {
  body_parts out;
  auto content_type = req.header("Content-Type").value_or("");
  auto type = mime_type(content_type);
  if (iequals(type, "multipart/form-data")) {
    auto boundary = http::multipart_boundary(content_type);
    if (!boundary) throw http::status_error(400, "multipart/form-data without a valid boundary");
    // A part may be as large as the whole body the server accepts (max_body_size).
    http::multipart_parser parser(*boundary, {.max_parts = 100, .max_part_size = 10 * 1024 * 1024});
    std::map<std::string, std::vector<json>> form, files;
    http::multipart_part current;
    std::string data;
    http::multipart_callbacks cb{
        .on_part =
            [&](const http::multipart_part& p) {
              current = p;
              data.clear();
            },
        .on_data = [&](std::string_view d) { data.append(d); },
        .on_part_end =
            [&] {
              if (current.filename) {
                auto ct = current.content_type.empty() ? std::string_view("application/octet-stream")
                                                       : std::string_view(current.content_type);
                // httpbin builds files from request.files.items(): the first file of each name.
                auto& slot = files[current.name];
                if (slot.empty()) slot.push_back(json_safe(data, ct));
              } else {
                form[current.name].push_back(data);
              }
            },
    };
    if (auto r = http::read_multipart(req, parser, cb); !r) reject(r.error(), "bad multipart body");
    out.form = semiflatten(form);
    out.files = semiflatten(files);
  } else if (iequals(type, http::form_urlencoded_type)) {
    http::form_fields fields(&req.arena());
    if (auto r = fields.parse(req.body(), {.max_fields = 1000, .max_size = SIZE_MAX}); !r)
      reject(r.error(), "bad form body");
    std::map<std::string, std::vector<json>> form;
    for (const auto& f : fields) form[std::string(f.key)].push_back(std::string(f.value));
    out.form = semiflatten(form);
  } else {
    out.data = std::string(req.body());
  }
  return out;
}

}  // namespace

json json_safe(std::string_view bytes, std::string_view content_type) {
  if (is_utf8(bytes)) return std::string(bytes);
  return "data:" + std::string(content_type) + ";base64," + http::base64_encode(bytes);
}

std::optional<std::string_view> query_ci(http::request& req, std::string_view key) {
  // CaseInsensitiveDict(request.args.items()) keeps the last of repeated keys.
  std::optional<std::string_view> found;
  for (const auto& p : req.query())
    if (iequals(p.key, key)) found = p.value;
  return found;
}

json header_object(http::request& req) {
  bool show_env = req.query().contains("show_env");
  std::map<std::string, std::string> fields;
  for (const auto& h : req.headers()) {
    auto name = wsgi_header_name(h.name);
    if (!show_env) {
      bool hidden = false;
      for (auto e : env_headers) hidden = hidden || iequals(name, e);
      if (hidden) continue;
    }
    auto [it, inserted] = fields.try_emplace(name, std::string(h.value));
    if (!inserted) it->second.append(",").append(h.value);
  }
  json out = json::object();
  for (auto& [k, v] : fields) out[k] = std::move(v);
  return out;
}

std::string origin_of(const http::request& req) {
  if (auto xff = req.header("X-Forwarded-For")) return std::string(*xff);
  if (!req.remote_address()) return "";
  auto text = req.remote_address()->to_string();
  if (!text.empty() && text.front() == '[') return text.substr(1, text.find(']') - 1);
  return text.substr(0, text.rfind(':'));
}

std::string base_url(const http::request& req) {
  std::string scheme(own_scheme);
  if (auto p = req.header("X-Forwarded-Proto")) scheme = *p;
  else if (auto p2 = req.header("X-Forwarded-Protocol")) scheme = *p2;
  else if (req.header("X-Forwarded-Ssl") == "on") scheme = "https";
  return scheme + "://" + std::string(req.header("Host").value_or(""));
}

std::string url_of(const http::request& req) { return base_url(req) + iri(req.target()); }

json describe(http::request& req, unsigned fields) {
  json d = json::object();
  if (fields & field::url) d["url"] = url_of(req);
  if (fields & field::args) {
    std::map<std::string, std::vector<json>> args;
    for (const auto& p : req.query()) args[std::string(p.key)].push_back(std::string(p.value));
    d["args"] = semiflatten(args);
  }
  if (fields & field::origin) d["origin"] = origin_of(req);
  if (fields & field::headers) d["headers"] = header_object(req);
  if (fields & field::method) d["method"] = std::string(req.method_name());
  if (fields & (field::form | field::data | field::files | field::json_body)) {
    auto body = read_body(req);
    if (fields & field::form) d["form"] = std::move(body.form);
    if (fields & field::files) d["files"] = std::move(body.files);
    if (fields & field::data) d["data"] = json_safe(body.data);
    if (fields & field::json_body) {
      auto parsed = json::parse(body.data, nullptr, false);
      d["json"] = parsed.is_discarded() ? json(nullptr) : parsed;
    }
  }
  return d;
}

void send_json(http::response& res, const json& value, unsigned status) {
  res.status = status;
  res.content_type("application/json");
  auto text = value.dump(-1, ' ', true, json::error_handler_t::replace);
  text += '\n';
  res.body = std::move(text);
}

void status_response(http::response& res, unsigned code) {
  res.status = code;
  switch (code) {
    case 301:
    case 302:
    case 303:
    case 305:
    case 307: res.header("Location", "/redirect/1"); break;
    case 401: res.header("WWW-Authenticate", "Basic realm=\"Fake Realm\""); break;
    case 402:
      res.header("x-more-info", "http://vimeo.com/22053820");
      res.body = "Fuck you, pay me!";
      break;
    case 406:
      res.content_type("application/json");
      res.body = json{{"message", "Client did not request a supported media type."},
                      {"accept", {"image/webp", "image/svg+xml", "image/jpeg", "image/png", "image/*"}}}
                     .dump();
      break;
    case 407: res.header("Proxy-Authenticate", "Basic realm=\"Fake Realm\""); break;
    case 418:
      res.header("x-more-info", "http://tools.ietf.org/html/rfc2324");
      res.body = teapot_text;
      break;
    default: break;
  }
  if (!res.header("Content-Type")) res.content_type("text/html; charset=utf-8");
}

std::optional<long long> parse_int(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 18) return std::nullopt;
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return negative ? -v : v;
}

std::optional<double> parse_float(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || s.size() > 64) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace httpbin
