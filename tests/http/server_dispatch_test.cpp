// What happens between the parsed request and the response on a live server: middleware
// order (global, group, route; before and after next()), middleware that answers alone,
// not-found and error handlers, and the per-shard App context.
#include <dusty/http/server.hpp>

#include "http/server_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>

namespace {

using namespace dusty::http::server_test;
namespace http = dusty::http;

// Each layer notes itself before and after next(); the outermost one reports the trace
// in X-Trace. Requests on one connection run one at a time, so a per-thread string is enough.
thread_local std::string trace;

http::middleware tracer(std::string name, bool outermost = false) {
  return [name, outermost](http::request&, http::response& res, const http::next& next) {
    if (outermost) trace.clear();
    trace += name + ">";
    next();
    trace += "<" + name;
    if (outermost) res.header("X-Trace", trace);
  };
}

struct dispatch_state {
  std::atomic<int> guarded_handler_runs{0};
};

void dispatch_routes(http::server<>& srv, dispatch_state& st) {
  srv.use(tracer("g1", true));
  srv.use(tracer("g2"));
  auto api = srv.group("/api", {tracer("api")});
  auto v1 = api.group("/v1", {tracer("v1")});
  v1.get(
      "/item/:id",
      [](http::request& req, http::response& res) {
        trace += "handler(" + std::string(req.param("id")) + ")";
        res.body = "item";
      },
      {tracer("r1"), tracer("r2")});
  srv.get("/plain", [](http::request&, http::response& res) { res.body = "plain"; });

  auto admin = srv.group("/admin", {[](http::request& req, http::response& res, const http::next& next) {
                           if (req.header("x-token") != "secret") {
                             res.status = 401;
                             res.body = "token required";
                             return;  // answers alone: next() is not called
                           }
                           next();
                         }});
  admin.get("/panel", [&st](http::request&, http::response& res) {
    ++st.guarded_handler_runs;
    res.body = "panel";
  });

  srv.get("/throw", [](http::request&, http::response&) { throw std::runtime_error("handler bug"); });
  srv.get("/teapot", [](http::request&, http::response&) { throw http::status_error(418, "short and stout"); });
  srv.get("/throw-int", [](http::request&, http::response&) { throw 42; });
  srv.get("/throw-after-writing", [](http::request&, http::response& res) {
    res.header("X-Kept", "yes");
    res.body = "half-built body";
    res.writer() << "partial output that must not be sent";
    throw std::runtime_error("failed halfway");
  });
  srv.post("/json-body", [](http::request& req, http::response& res) { res.json(req.json<nlohmann::json>()); });
}

class dispatch : public ::testing::Test {
 protected:
  dispatch_state st_;
  live_server<> srv_{[this](http::server<>& s) { dispatch_routes(s, st_); }};
};

TEST_F(dispatch, middleware_runs_global_then_groups_then_route_around_the_handler) {
  auto c = srv_.connect();
  c.send(get_request("/api/v1/item/42"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "item");
  EXPECT_EQ(r->header("x-trace"), "g1>g2>api>v1>r1>r2>handler(42)<r2<r1<v1<api<g2<g1");
}

TEST_F(dispatch, global_middleware_wraps_unrouted_requests_too) {
  auto c = srv_.connect();
  c.send(get_request("/plain") + get_request("/no/such/path"));
  auto plain = c.read_response();
  auto missing = c.read_response();
  ASSERT_TRUE(plain && missing);
  EXPECT_EQ(plain->header("x-trace"), "g1>g2><g2<g1");
  EXPECT_EQ(missing->status, 404u);
  EXPECT_EQ(missing->header("x-trace"), "g1>g2><g2<g1");
}

TEST_F(dispatch, middleware_can_answer_without_calling_next) {
  auto c = srv_.connect();
  c.send(get_request("/admin/panel"));
  auto denied = c.read_response();
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401u);
  EXPECT_EQ(denied->body, "token required");
  EXPECT_EQ(st_.guarded_handler_runs.load(), 0);
  c.send(get_request("/admin/panel", "X-Token: secret\r\n"));
  auto allowed = c.read_response();
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200u);
  EXPECT_EQ(allowed->body, "panel");
  EXPECT_EQ(st_.guarded_handler_runs.load(), 1);
}

TEST_F(dispatch, exceptions_become_responses_and_the_server_goes_on) {
  auto c = srv_.connect();
  c.send(get_request("/throw"));
  auto r500 = c.read_response();
  ASSERT_TRUE(r500);
  EXPECT_EQ(r500->status, 500u);
  EXPECT_EQ(r500->body.find("handler bug"), std::string::npos) << "internal messages stay internal";

  c.send(get_request("/teapot"));
  auto r418 = c.read_response();
  ASSERT_TRUE(r418);
  EXPECT_EQ(r418->status, 418u);
  EXPECT_EQ(r418->body, "short and stout");

  c.send(get_request("/throw-int"));
  auto odd = c.read_response();
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->status, 500u);

  c.send(get_request("/throw-after-writing"));
  auto halfway = c.read_response();
  ASSERT_TRUE(halfway);
  EXPECT_EQ(halfway->status, 500u);
  EXPECT_EQ(halfway->body, "Internal Server Error");
  EXPECT_EQ(halfway->header("x-kept"), "yes") << "headers set before the failure stay (CORS, tracing)";

  c.send("POST /json-body HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\n\r\n{broken");
  auto bad_json = c.read_response();
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 400u);

  // Same connection, still served; and other connections too.
  c.send(get_request("/plain"));
  auto after = c.read_response();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, "plain");
  auto fresh = get_once(srv_.port(), "/plain");
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->status, 200u);
}

TEST(dispatch_handlers, custom_not_found_and_error_handlers) {
  live_server<> srv([](http::server<>& s) {
    s.get("/fail", [](http::request&, http::response&) { throw std::logic_error("boom"); });
    s.not_found([](http::request& req, http::response& res) {
      res.status = 404;
      res.body = "nothing at " + std::string(req.path());
    });
    s.get("/fail-with-body", [](http::request&, http::response& res) {
      res.body = "secret half-built body";
      throw http::status_error(409, "conflict");
    });
    s.error_handler([](http::request&, http::response& res, std::exception_ptr e) {
      try {
        std::rethrow_exception(e);
      } catch (const http::status_error& ex) {
        res.status = ex.status();  // and no body of its own
      } catch (const std::exception& ex) {
        res.status = 500;
        res.header("X-Error", ex.what());
        res.body = "custom error page";
      }
    });
  });
  auto c = srv.connect();
  c.send(get_request("/missing/thing") + get_request("/fail") + get_request("/fail-with-body"));
  auto nf = c.read_response();
  auto err = c.read_response();
  auto conflict = c.read_response();
  ASSERT_TRUE(nf && err && conflict);
  EXPECT_EQ(conflict->status, 409u);
  EXPECT_EQ(conflict->body, "") << "the failed handler's body must not leak into the error response";
  EXPECT_EQ(nf->status, 404u);
  EXPECT_EQ(nf->body, "nothing at /missing/thing");
  EXPECT_EQ(err->status, 500u);
  EXPECT_EQ(err->header("x-error"), "boom");
  EXPECT_EQ(err->body, "custom error page");
}

TEST(dispatch_handlers, error_handler_that_throws_ends_the_connection_not_the_server) {
  live_server<> srv([](http::server<>& s) {
    s.get("/fail", [](http::request&, http::response&) { throw std::logic_error("boom"); });
    s.get("/ok", [](http::request&, http::response& res) { res.body = "ok"; });
    s.error_handler([](http::request&, http::response&, std::exception_ptr) { throw std::runtime_error("worse"); });
  });
  auto c = srv.connect();
  c.send(get_request("/fail"));
  std::string got;
  EXPECT_TRUE(c.wait_closed(io_limit, &got));
  auto ok = get_once(srv.port(), "/ok");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->body, "ok");
}

// The per-shard application context: each shard builds its own, and handlers see the
// one of the shard that serves them.
struct counter_app {
  unsigned shard = dusty::this_shard_id();
  unsigned long hits = 0;
};

TEST(app_context, each_shard_has_its_own_app) {
  unsigned shards = two_shards();
  live_server<counter_app> srv(
      [](http::server<counter_app>& s) {
        s.get("/hit", [](counter_app& app, http::request&, http::response& res) {
          if (app.shard != dusty::this_shard_id()) throw std::logic_error("App of another shard");
          ++app.hits;
          res.body = std::to_string(app.shard) + " " + std::to_string(app.hits) + " " +
                     std::to_string(reinterpret_cast<std::uintptr_t>(&app));
        });
        s.get("/plain", [](http::request&, http::response& res) { res.body = "no app needed"; });
      },
      local_config(), shards);

  // Fresh connections spread over the shards (SO_REUSEPORT hashes each one); each
  // shard's counter must count only its own requests, 1, 2, 3, ... with no gaps.
  std::map<unsigned, unsigned long> last_hits;
  std::map<unsigned, std::string> address_of;
  for (int i = 0; i < 64; ++i) {
    auto r = get_once(srv.port(), "/hit");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200u) << r->body;
    unsigned shard = 0;
    unsigned long hits = 0;
    char address[32] = {};
    ASSERT_EQ(std::sscanf(r->body.c_str(), "%u %lu %31s", &shard, &hits, address), 3) << r->body;
    EXPECT_EQ(hits, last_hits[shard] + 1) << "shard " << shard;
    last_hits[shard] = hits;
    if (address_of.count(shard)) {
      EXPECT_EQ(address_of[shard], address);
    }
    address_of[shard] = address;
  }
  EXPECT_EQ(last_hits.size(), shards) << "64 connections all landed on one shard";
  std::set<std::string> distinct;
  for (auto& [s, a] : address_of) distinct.insert(a);
  EXPECT_EQ(distinct.size(), address_of.size()) << "two shards shared an App";
  auto plain = get_once(srv.port(), "/plain");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->body, "no app needed");
}

}  // namespace
