#include <dusty/http/middleware/cors.hpp>

#include <dusty/http/testing.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace dusty::http {
namespace {

namespace ht = testing;
using namespace std::chrono_literals;

constexpr std::string_view site = "https://app.example.com";

// A server with CORS in front of one GET route and one POST route, counting handler runs.
struct cors_server {
  explicit cors_server(cors_config config) {
    srv.use(cors(std::move(config)));
    srv.get("/items", [this](request&, response& res) {
      ++calls;
      res.header("X-Request-Id", "r-1");
      res.body = "items";
    });
    srv.post("/items", [this](request&, response& res) {
      ++calls;
      res.status = 201;
    });
  }
  ht::server<> srv;
  int calls = 0;
};

ht::request_builder preflight(std::string_view origin, std::string_view method, std::string_view headers = {}) {
  auto b = ht::request_builder()
               .method(method::options)
               .path("/items")
               .header("Origin", origin)
               .header("Access-Control-Request-Method", method);
  if (!headers.empty()) b.header("Access-Control-Request-Headers", headers);
  return b;
}

cors_config listed() {
  return {.allowed_origins = {"https://admin.example.com", std::string(site)},
          .allowed_headers = {"Content-Type", "X-Token"},
          .exposed_headers = {"X-Request-Id", "X-Total"},
          .max_age = 10min};
}

TEST(cors, preflight_is_answered_by_the_middleware_for_a_get_only_route) {
  cors_server s(listed());
  auto r = preflight(site, "POST", "content-type, x-token").call(s.srv);
  EXPECT_EQ(r.status(), 204) << r;
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), site);
  EXPECT_EQ(r.header("Access-Control-Allow-Methods"), "GET, HEAD, POST, PUT, PATCH, DELETE");
  EXPECT_EQ(r.header("Access-Control-Allow-Headers"), "Content-Type, X-Token");
  EXPECT_EQ(r.header("Access-Control-Max-Age"), "600");
  EXPECT_EQ(r.header("Vary"), "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
  EXPECT_FALSE(r.header("Access-Control-Allow-Credentials"));
  EXPECT_FALSE(r.header("Access-Control-Expose-Headers"));
  EXPECT_TRUE(r.body().empty());
  EXPECT_EQ(s.calls, 0);
}

TEST(cors, without_the_middleware_the_same_preflight_is_a_405) {
  ht::server<> srv;
  srv.get("/items", [](request&, response&) {});
  auto r = preflight(site, "GET").call(srv);
  EXPECT_EQ(r.status(), 405);
  EXPECT_FALSE(r.header("Access-Control-Allow-Origin"));
}

TEST(cors, preflight_from_an_unlisted_origin_is_refused_with_403) {
  cors_server s(listed());
  for (std::string_view origin : {"https://evil.example.com", "https://app.example.com:8443", "http://app.example.com",
                                  "https://APP.example.com", "null"}) {
    auto r = preflight(origin, "GET").call(s.srv);
    EXPECT_EQ(r.status(), 403) << origin;
    EXPECT_EQ(r.body(), "CORS preflight refused: origin not allowed");
    EXPECT_FALSE(r.header("Access-Control-Allow-Origin")) << origin;
    EXPECT_FALSE(r.header("Access-Control-Allow-Methods")) << origin;
    EXPECT_EQ(r.header("Vary"), "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
  }
  EXPECT_EQ(s.calls, 0);
}

TEST(cors, preflight_for_an_unlisted_method_or_header_is_refused) {
  cors_server s(listed());
  auto m = preflight(site, "TRACE").call(s.srv);
  EXPECT_EQ(m.status(), 403);
  EXPECT_EQ(m.body(), "CORS preflight refused: method TRACE not allowed");
  // Methods are case-sensitive.
  EXPECT_EQ(preflight(site, "post").call(s.srv).status(), 403);

  auto h = preflight(site, "PUT", "content-type,x-secret").call(s.srv);
  EXPECT_EQ(h.status(), 403);
  EXPECT_EQ(h.body(), "CORS preflight refused: header x-secret not allowed");
  EXPECT_FALSE(h.header("Access-Control-Allow-Headers"));
  // Header names are not: X-TOKEN matches X-Token; empty list items are skipped.
  EXPECT_EQ(preflight(site, "PUT", " X-TOKEN , ,content-type").call(s.srv).status(), 204);
  EXPECT_EQ(s.calls, 0);
}

TEST(cors, wildcard_headers_echo_the_requested_list) {
  cors_server s({.allowed_headers = {"*"}});
  auto r = preflight(site, "DELETE", "authorization, x-anything").call(s.srv);
  EXPECT_EQ(r.status(), 204);
  EXPECT_EQ(r.header("Access-Control-Allow-Headers"), "authorization, x-anything");
  auto none = preflight(site, "DELETE").call(s.srv);
  EXPECT_EQ(none.status(), 204);
  EXPECT_FALSE(none.header("Access-Control-Allow-Headers"));
}

TEST(cors, simple_request_gets_the_allow_origin_and_continues) {
  cors_server s(listed());
  auto r = ht::request_builder().path("/items").header("Origin", site).call(s.srv);
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.body(), "items");
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), site);
  EXPECT_EQ(r.header("Access-Control-Expose-Headers"), "X-Request-Id, X-Total");
  EXPECT_EQ(r.header_values("Vary"), std::vector<std::string_view>{"Origin"});
  EXPECT_FALSE(r.header("Access-Control-Allow-Methods"));
  EXPECT_FALSE(r.header("Access-Control-Allow-Credentials"));
  EXPECT_EQ(r.header("X-Request-Id"), "r-1");
  EXPECT_EQ(s.calls, 1);
}

TEST(cors, options_without_request_method_is_not_a_preflight) {
  cors_server s(listed());
  auto r = ht::request_builder().method(method::options).path("/items").header("Origin", site).call(s.srv);
  EXPECT_EQ(r.status(), 405);  // routed like any request: /items has no OPTIONS route
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), site);
}

TEST(cors, request_from_an_unlisted_origin_continues_without_cors_headers) {
  cors_server s(listed());
  auto r = ht::request_builder().method(method::post).path("/items").header("Origin", "https://evil.example.com")
               .call(s.srv);
  EXPECT_EQ(r.status(), 201);
  EXPECT_EQ(s.calls, 1);
  EXPECT_FALSE(r.header("Access-Control-Allow-Origin"));
  EXPECT_FALSE(r.header("Access-Control-Expose-Headers"));
  EXPECT_EQ(r.header("Vary"), "Origin");
}

TEST(cors, same_origin_requests_vary_on_origin_only_when_the_answer_depends_on_it) {
  cors_server with_list(listed());
  auto a = ht::request_builder().path("/items").call(with_list.srv);
  EXPECT_EQ(a.header("Vary"), "Origin");
  EXPECT_FALSE(a.header("Access-Control-Allow-Origin"));

  cors_server any(cors_config{});
  auto b = ht::request_builder().path("/items").call(any.srv);
  EXPECT_FALSE(b.header("Vary"));
  EXPECT_FALSE(b.header("Access-Control-Allow-Origin"));
}

TEST(cors, wildcard_origin_answers_star_without_vary) {
  cors_server s(cors_config{});
  auto r = ht::request_builder().path("/items").header("Origin", "https://anyone.example").call(s.srv);
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "*");
  EXPECT_FALSE(r.header("Vary"));
  auto p = preflight("https://anyone.example", "PATCH", "content-type").call(s.srv);
  EXPECT_EQ(p.status(), 204);
  EXPECT_EQ(p.header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(p.header("Vary"), "Access-Control-Request-Method, Access-Control-Request-Headers");
  EXPECT_FALSE(p.header("Access-Control-Max-Age"));
}

TEST(cors, credentials_with_a_wildcard_echo_the_origin) {
  cors_server s({.allow_credentials = true});
  auto r = ht::request_builder().path("/items").header("Origin", "https://anyone.example").call(s.srv);
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "https://anyone.example");
  EXPECT_EQ(r.header("Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(r.header("Vary"), "Origin");

  auto p = preflight("https://other.example", "PUT").call(s.srv);
  EXPECT_EQ(p.status(), 204);
  EXPECT_EQ(p.header("Access-Control-Allow-Origin"), "https://other.example");
  EXPECT_EQ(p.header("Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(p.header("Vary"), "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
}

TEST(cors, credentials_with_listed_origins) {
  auto config = listed();
  config.allow_credentials = true;
  cors_server s(config);
  auto r = ht::request_builder().path("/items").header("Origin", site).call(s.srv);
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), site);
  EXPECT_EQ(r.header("Access-Control-Allow-Credentials"), "true");
  auto other = ht::request_builder().path("/items").header("Origin", "https://evil.example.com").call(s.srv);
  EXPECT_FALSE(other.header("Access-Control-Allow-Credentials"));
  EXPECT_FALSE(other.header("Access-Control-Allow-Origin"));
}

TEST(cors, headers_are_on_error_answers_and_streamed_responses) {
  ht::server<> srv;
  srv.use(cors(listed()));
  srv.get("/missing", [](request&, response&) { throw status_error(404, "no such item"); });
  srv.get("/stream", [](request&, response& res) {
    res.chunk("a");
    res.chunk("b");
  });
  auto e = ht::request_builder().path("/missing").header("Origin", site).call(srv);
  EXPECT_EQ(e.status(), 404);
  EXPECT_EQ(e.body(), "no such item");
  EXPECT_EQ(e.header("Access-Control-Allow-Origin"), site);

  auto s = ht::request_builder().path("/stream").header("Origin", site).call(srv);
  EXPECT_TRUE(s.streamed());
  EXPECT_EQ(s.body(), "ab");
  EXPECT_EQ(s.header("Access-Control-Allow-Origin"), site);
}

TEST(cors, on_a_group_it_covers_only_that_group) {
  ht::server<> srv;
  auto api = srv.group("/api", {cors(listed())});
  api.get("/items", [](request&, response& res) { res.body = "api"; });
  api.options("/items", [](request&, response& res) { res.status = 299; });  // never reached by preflights
  srv.get("/items", [](request&, response& res) { res.body = "site"; });

  auto in = ht::request_builder().path("/api/items").header("Origin", site).call(srv);
  EXPECT_EQ(in.header("Access-Control-Allow-Origin"), site);
  auto pre = preflight(site, "GET").path("/api/items").call(srv);
  EXPECT_EQ(pre.status(), 204);
  auto out = ht::request_builder().path("/items").header("Origin", site).call(srv);
  EXPECT_FALSE(out.header("Access-Control-Allow-Origin"));
}

TEST(cors, invalid_configurations_are_rejected) {
  EXPECT_THROW(cors({.allowed_origins = {}}), std::invalid_argument);
  EXPECT_THROW(cors({.allowed_origins = {""}}), std::invalid_argument);
  EXPECT_THROW(cors({.allowed_origins = {"https://a.example\r\nSet-Cookie: x=1"}}), std::invalid_argument);
  EXPECT_THROW(cors({.allowed_methods = {"GET", "PO\nST"}}), std::invalid_argument);
  EXPECT_THROW(cors({.allowed_headers = {std::string("X\0Y", 3)}}), std::invalid_argument);
  EXPECT_THROW(cors({.exposed_headers = {""}}), std::invalid_argument);
  EXPECT_NO_THROW(cors());
}

}  // namespace
}  // namespace dusty::http
