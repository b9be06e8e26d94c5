#pragma once
// Shared pieces of dusty-httpbin: the request description every echo endpoint returns
// (httpbin's get_dict), httpbin's canned status responses, and the route installers, one
// per topic file.
#include <dusty/http/server.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace httpbin {

namespace http = dusty::http;
using json = nlohmann::json;
using scope = http::route_scope<void>;

// ---- routes_request.cpp: echo endpoints, status codes, delays -------------------------
void install_request_routes(scope& srv);
// ---- routes_response.cpp: generated bodies, streams, ranges, caching, encodings -------
void install_response_routes(scope& srv);
// ---- routes_auth.cpp: redirects, cookies, authentication ----------------------------
void install_auth_routes(scope& srv);

// ---- request_info.cpp ----------------------------------------------------------------

/// The parts of a request httpbin can describe; a bit set, as get_dict('url', 'args', ...).
enum field : unsigned {
  url = 1, args = 2, form = 4, data = 8, origin = 16, headers = 32, files = 64, json_body = 128, method = 256,
};

/// httpbin's get_dict: a JSON object with the chosen fields. Reading form, data, files or
/// json reads the body (multipart is parsed as it streams in). Throws status_error(400)
/// for a malformed form or multipart body, 413 past the limits.
json describe(http::request& req, unsigned fields);

/// The request headers as httpbin shows them: names title-cased as WSGI does
/// ("x-b3-id" -> "X-B3-Id", '_' -> '-'), repeated fields joined with ',', proxy headers
/// hidden unless the query has show_env.
json header_object(http::request& req);
/// X-Forwarded-For, else the peer's IP address.
std::string origin_of(const http::request& req);
/// The absolute URL of the request, as werkzeug rebuilds it.
std::string url_of(const http::request& req);
/// The scheme "url" reports when no X-Forwarded-Proto says otherwise: "https" when the app
/// serves TLS (--tls-cert). Set once in main(), before the server starts.
inline std::string_view own_scheme = "http";
/// "http://host" of the request (for absolute redirects).
std::string base_url(const http::request& req);

/// Serialises like Flask's jsonify: sorted keys, compact, \u escapes, trailing newline.
void send_json(http::response& res, const json& value, unsigned status = 200);

/// httpbin's status_code(code): the canned body and headers some codes get (redirects
/// to /redirect/1, 401 with a Basic challenge, 418 teapot ...).
void status_response(http::response& res, unsigned code);

/// A text as JSON shows it: itself when it is UTF-8, else a data: URL in base64.
json json_safe(std::string_view bytes, std::string_view content_type = "application/octet-stream");

/// Whole decimal number of at most 18 digits; nullopt otherwise.
std::optional<long long> parse_int(std::string_view s);
/// A finite decimal number (Python float() syntax, roughly); nullopt otherwise.
std::optional<double> parse_float(std::string_view s);

/// The value of query parameter `key`, compared ASCII case-insensitively (httpbin reads
/// several parameters through a CaseInsensitiveDict).
std::optional<std::string_view> query_ci(http::request& req, std::string_view key);

// ---- content.cpp ----------------------------------------------------------------------
extern const std::string_view moby_html;
extern const std::string_view utf8_demo;
extern const std::string_view robots_txt;
extern const std::string_view deny_text;
extern const std::string_view teapot_text;
json sample_json();


}  // namespace httpbin
