#pragma once
// cors(): a middleware implementing Cross-Origin Resource Sharing (the Fetch standard's
// CORS protocol) for a server or a group of routes.
//
//   srv.use(dusty::http::cors({
//       .allowed_origins = {"https://app.example.com", "https://admin.example.com"},
//       .allowed_headers = {"Content-Type", "Authorization"},
//       .exposed_headers = {"X-Request-Id"},
//       .max_age = std::chrono::minutes(10),
//       .allow_credentials = true,
//   }));
//
// Preflight requests (OPTIONS with Origin and Access-Control-Request-Method) are answered
// by the middleware itself, without calling next(), so they work for paths that only
// register GET or POST as long as the middleware is global (server::use runs before
// routing); on a group or route it only sees requests the router sent there, and a
// preflight for a path without an OPTIONS route would already have become a 405. A
// preflight the policy allows gets 204 with the Access-Control-Allow-* headers. One it
// refuses (origin not listed, method not listed, a requested header not listed) gets 403
// with a plain-text reason and no Access-Control-Allow-* headers: the browser then fails
// the preflight, and the status tells whoever reads the network log why.
//
// Any other request with an allowed Origin gets Access-Control-Allow-Origin (plus
// Access-Control-Allow-Credentials and Access-Control-Expose-Headers when configured)
// and continues to next(). The headers are added before next() runs, so they are on
// streamed responses and on answers of the error handler too. A request with an origin
// that is not allowed continues without CORS headers, and the browser keeps the response
// from the page. Requests without Origin are not cross-origin and pass untouched, except
// for `Vary: Origin` (below).
//
// When the answer depends on the Origin (a list of origins, or credentials), every
// response that passes through carries `Vary: Origin`, so that shared caches do not hand
// one origin's answer to another; preflight answers also vary on the two
// Access-Control-Request-* headers.
//
// The middleware keeps no mutable state; one instance may serve every shard.
#include <dusty/http/handler.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace dusty::http {

struct cors_config {
  /// Origins allowed to read responses, each compared byte for byte with the request's
  /// Origin ("https://example.com:8443": scheme, host and non-default port, no trailing
  /// slash; browsers send scheme and host in lower case). "*" allows every origin and is
  /// then answered with `Access-Control-Allow-Origin: *` (but see allow_credentials).
  /// Listing "null" admits sandboxed documents and local files from anywhere: avoid it.
  /// Default: {"*"}.
  std::vector<std::string> allowed_origins{"*"};
  /// Methods a preflight may ask for (case-sensitive, as methods are), sent in
  /// Access-Control-Allow-Methods. Browsers never preflight GET, HEAD or POST for the
  /// method alone, but do when the request has non-safelisted headers, so keep them
  /// listed. Default: GET, HEAD, POST, PUT, PATCH, DELETE.
  std::vector<std::string> allowed_methods{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
  /// Request headers a preflight may ask for (ASCII case-insensitive), sent in
  /// Access-Control-Allow-Headers. "*" allows whatever a preflight asks for and answers
  /// with the requested list itself (a literal "*" would not cover Authorization and is
  /// ignored by browsers for credentialed requests). CORS-safelisted headers (Accept,
  /// Accept-Language, Content-Language, and Content-Type with a form or text value)
  /// never need listing. Default: {"Content-Type"}.
  std::vector<std::string> allowed_headers{"Content-Type"};
  /// Response headers, beyond the CORS-safelisted ones, that scripts may read; sent in
  /// Access-Control-Expose-Headers on non-preflight responses. Default: none.
  std::vector<std::string> exposed_headers;
  /// How long a browser may cache a preflight answer, sent as Access-Control-Max-Age.
  /// Zero sends none, and browsers then cache for 5 seconds; browsers also cap it (2 h in
  /// Chromium, 24 h in Firefox). Default: 0 s.
  std::chrono::seconds max_age{0};
  /// Allow requests with credentials (cookies, HTTP authentication, client certificates):
  /// sends Access-Control-Allow-Credentials: true. Browsers reject
  /// `Access-Control-Allow-Origin: *` on credentialed requests, so with "*" among the
  /// origins the request's own Origin is echoed instead; that lets *every* site make
  /// credentialed requests on behalf of its visitors, which relaxes the same-origin
  /// policy completely. List origins explicitly when this is on. Default: false.
  bool allow_credentials = false;
};

/// The CORS middleware for `config`; see the file comment for what it answers. Throws
/// std::invalid_argument when a list entry is empty or contains bytes that cannot appear
/// in a header value (CR, LF, NUL), or when allowed_origins is empty.
middleware cors(cors_config config = {});

}  // namespace dusty::http
