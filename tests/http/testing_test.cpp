#include <dusty/http/testing.hpp>

#include <dusty/core/error.hpp>

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace dusty::http {
namespace {

namespace ht = testing;
using nlohmann::json;

// Reports what the handler saw of the request.
void echo(request& req, response& res) {
  json headers = json::array();
  for (const auto& f : req.headers()) headers.push_back(std::string(f.name) + ": " + std::string(f.value));
  json query = json::object();
  for (const auto& q : req.query()) query[std::string(q.key)] = q.value;
  res.json({
      {"method", req.method_name()},
      {"target", req.target()},
      {"path", req.path()},
      {"raw_query", req.raw_query()},
      {"query", query},
      {"id", req.param("id")},
      {"glob", req.glob()},
      {"protocol", req.protocol()},
      {"headers", headers},
      {"remote", req.remote_address() ? req.remote_address()->to_string() : "none"},
      {"body", req.body()},
  });
}

TEST(testing, direct_call_sees_the_built_request) {
  auto r = ht::request_builder()
               .method(method::post)
               .path("/users/7?a=1")
               .param("id", "7")
               .glob("rest/of")
               .query("q", "tea & biscuits/é")
               .header("X-A", "b")
               .header("x-a", "c")
               .remote_address(*net::socket_address::parse("[::1]:4000"))
               .body("hello")
               .call(echo);
  ASSERT_EQ(r.status(), 200) << r;
  EXPECT_EQ(r.header("content-type"), "application/json");
  auto j = r.json();
  EXPECT_EQ(j["method"], "POST");
  EXPECT_EQ(j["target"], "/users/7?a=1&q=tea%20%26%20biscuits%2F%C3%A9");
  EXPECT_EQ(j["path"], "/users/7");
  EXPECT_EQ(j["raw_query"], "a=1&q=tea%20%26%20biscuits%2F%C3%A9");
  EXPECT_EQ(j["query"], (json{{"a", "1"}, {"q", "tea & biscuits/é"}}));
  EXPECT_EQ(j["id"], "7");
  EXPECT_EQ(j["glob"], "rest/of");
  EXPECT_EQ(j["protocol"], "HTTP/1.1");
  EXPECT_EQ(j["headers"], (json{"X-A: b", "x-a: c", "Content-Length: 5"}));
  EXPECT_EQ(j["remote"], "[::1]:4000");
  EXPECT_EQ(j["body"], "hello");
}

TEST(testing, defaults_are_a_bare_get_of_the_root) {
  auto j = ht::request_builder().call(echo).json();
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["target"], "/");
  EXPECT_EQ(j["raw_query"], "");
  EXPECT_EQ(j["headers"], json::array());
  EXPECT_EQ(j["remote"], "none");
  EXPECT_EQ(j["body"], "");
}

TEST(testing, json_body_and_request_json) {
  auto b = ht::request_builder().method(method::put).header("Content-Type", "text/plain").json({{"over", 9000}});
  auto r = b.call([](request& req, response& res) {
    auto in = req.json();
    res.status = 201;
    res.header("Location", "/things/1");
    res.json({{"got", in["over"]}, {"type", *req.header("content-type")}});
  });
  EXPECT_EQ(r.status(), 201);
  EXPECT_EQ(r.header("location"), "/things/1");
  EXPECT_EQ(r.json(), (json{{"got", 9000}, {"type", "application/json"}}));
  EXPECT_EQ(r.body(), R"({"got":9000,"type":"application/json"})");
  EXPECT_FALSE(r.streamed());
  EXPECT_TRUE(r.pieces().empty());

  auto p = ht::request_builder().call([](request&, response& res) { res.json({{"x", 1}, {"y", 2}}); });
  EXPECT_EQ((p.json<std::map<std::string, int>>()), (std::map<std::string, int>{{"x", 1}, {"y", 2}}));
  EXPECT_THROW(ht::request_builder().call([](request&, response& res) { res.body = "{"; }).json(),
               nlohmann::json::exception);
}

TEST(testing, header_values_keep_every_field) {
  auto r = ht::request_builder().call([](request&, response& res) {
    res.header("Set-Cookie", "a=1");
    res.header("X-Other", "x");
    res.header("set-cookie", "b=2");
  });
  EXPECT_EQ(r.header("SET-COOKIE"), "a=1");
  EXPECT_EQ(r.header_values("Set-Cookie"), (std::vector<std::string_view>{"a=1", "b=2"}));
  EXPECT_TRUE(r.header_values("Missing").empty());
  EXPECT_FALSE(r.header("Missing"));
  ASSERT_EQ(r.headers().size(), 3u);
  EXPECT_EQ(r.headers()[1], (ht::field{"X-Other", "x"}));
}

TEST(testing, version_sets_the_protocol) {
  auto protocol = [](const ht::request_builder& b) {
    return std::string(b.call([](request& req, response& res) { res.body = std::string(req.protocol()); }).body());
  };
  EXPECT_EQ(protocol(ht::request_builder()), "HTTP/1.1");
  EXPECT_EQ(protocol(ht::request_builder().version(10)), "HTTP/1.0");
  EXPECT_EQ(protocol(ht::request_builder().version(11).header("Connection", "close")), "HTTP/1.1");
}

// Groups join prefixes as router groups do: exactly one '/' between the parts, so a
// trailing slash on the prefix does not build "/api//x".
TEST(testing, group_prefixes_join_with_one_slash) {
  ht::server<> srv;
  auto api = srv.group("/api/");
  api.get("/x", [](request&, response& res) { res.body = "x"; });
  api.group("v1/").get("y", [](request&, response& res) { res.body = "y"; });
  EXPECT_EQ(ht::request_builder().path("/api/x").call(srv).body(), "x");
  EXPECT_EQ(ht::request_builder().path("/api/v1/y").call(srv).body(), "y");
  EXPECT_EQ(ht::request_builder().path("/api//x").call(srv).status(), 404u);
}

TEST(testing, app_handlers_get_the_app) {
  struct counter {
    int hits = 0;
  } c;
  auto b = ht::request_builder().path("/hit");
  auto h = [](counter& a, request&, response& res) { res.body = std::to_string(++a.hits); };
  EXPECT_EQ(b.call(c, h).body(), "1");
  EXPECT_EQ(b.call(c, h).body(), "2");
  EXPECT_EQ(c.hits, 2);
}

// ---- through a server ----

struct shop {
  explicit shop(std::string n) : name(std::move(n)) {}
  std::string name;
  int orders = 0;
};

template <class Server>
void install_routes(Server& srv, std::vector<std::string>& trace) {
  srv.use([&trace](request& req, response& res, const next& next) {
    trace.push_back("global>" + std::string(req.path()));
    next();
    trace.push_back("global<" + std::to_string(res.status));
  });
  srv.get("/users/:id/posts/:post", [](request& req, response& res) {
    res.json({{"id", req.param("id")}, {"post", req.param("post")}});
  });
  srv.get("/static/*", [](request& req, response& res) { res.body = std::string(req.glob()); });
  auto admin = srv.group("/admin", {[&trace](request&, response& res, const next& next) {
                           trace.push_back("admin");
                           if (!res.header("X-Denied")) next();
                         }});
  admin.post("/orders", [](shop& s, request& req, response& res) {
    ++s.orders;
    res.status = 201;
    res.json({{"shop", s.name}, {"orders", s.orders}, {"item", req.json()["item"]}});
  });
}

TEST(testing, server_calls_fill_params_through_the_router) {
  std::vector<std::string> trace;
  ht::server<shop> srv({}, "corner");
  install_routes(srv, trace);

  auto r = ht::request_builder().path("/users/42/posts/7").param("id", "ignored").call(srv);
  EXPECT_EQ(r.status(), 200) << r;
  EXPECT_EQ(r.json(), (json{{"id", "42"}, {"post", "7"}}));

  auto g = ht::request_builder().path("/static/css/site.css").call(srv);
  EXPECT_EQ(g.body(), "css/site.css");
  EXPECT_EQ(trace, (std::vector<std::string>{"global>/users/42/posts/7", "global<200", "global>/static/css/site.css",
                                             "global<200"}));
}

TEST(testing, server_calls_run_group_middleware_and_pass_the_app) {
  std::vector<std::string> trace;
  ht::server<shop> srv({}, "corner");
  install_routes(srv, trace);
  auto b = ht::request_builder().method(method::post).path("/admin/orders").json({{"item", "tea"}});
  EXPECT_EQ(b.call(srv).json(), (json{{"shop", "corner"}, {"orders", 1}, {"item", "tea"}}));
  auto second = b.call(srv);
  EXPECT_EQ(second.status(), 201);
  EXPECT_EQ(second.json()["orders"], 2);
  EXPECT_EQ(srv.app().orders, 2);
  EXPECT_EQ(trace, (std::vector<std::string>{"global>/admin/orders", "admin", "global<201", "global>/admin/orders",
                                             "admin", "global<201"}));
}

TEST(testing, server_calls_answer_404_405_and_head) {
  std::vector<std::string> trace;
  ht::server<shop> srv({}, "corner");
  install_routes(srv, trace);
  auto missing = ht::request_builder().path("/nope").call(srv);
  EXPECT_EQ(missing.status(), 404);
  EXPECT_EQ(missing.body(), "Not Found");
  auto wrong = ht::request_builder().method(method::delete_).path("/admin/orders").call(srv);
  EXPECT_EQ(wrong.status(), 405);
  EXPECT_EQ(wrong.header("Allow"), "POST");
  auto head = ht::request_builder().method(method::head).path("/users/1/posts/2").call(srv);
  EXPECT_EQ(head.status(), 200);
  EXPECT_EQ(head.json()["post"], "2");  // the wire would drop it; the capture keeps it

  srv.not_found([](request& req, response& res) {
    res.status = 404;
    res.body = "no " + std::string(req.path());
  });
  EXPECT_EQ(ht::request_builder().path("/nope").call(srv).body(), "no /nope");
}

// ---- exceptions ----

TEST(testing, direct_calls_let_exceptions_through) {
  auto b = ht::request_builder();
  EXPECT_THROW(b.call([](request&, response&) { throw status_error(404, "gone"); }), status_error);
  EXPECT_THROW(b.call([](request&, response&) { throw std::logic_error("bug"); }), std::logic_error);
  // A client_gone the test did not cause is the handler's own doing: it propagates too.
  EXPECT_THROW(b.call([](request&, response&) { throw client_gone("?"); }), client_gone);
}

TEST(testing, server_calls_turn_exceptions_into_the_error_handlers_answer) {
  ht::server<> srv;
  srv.get("/status", [](request&, response& res) {
    res.header("X-Kept", "1");
    throw status_error(409, "taken");
  });
  srv.get("/bug", [](request&, response&) { throw std::logic_error("bug"); });
  auto s = ht::request_builder().path("/status").call(srv);
  EXPECT_EQ(s.status(), 409);
  EXPECT_EQ(s.body(), "taken");
  EXPECT_EQ(s.header("X-Kept"), "1");
  ASSERT_TRUE(s.exception());
  EXPECT_THROW(std::rethrow_exception(s.exception()), status_error);
  EXPECT_FALSE(s.aborted());

  auto b = ht::request_builder().path("/bug").call(srv);
  EXPECT_EQ(b.status(), 500);
  EXPECT_EQ(b.body(), "Internal Server Error");
  EXPECT_THROW(std::rethrow_exception(b.exception()), std::logic_error);

  srv.error_handler([](request&, response& res, std::exception_ptr) {
    res.status = 599;
    res.body = "custom";
  });
  auto c = ht::request_builder().path("/bug").call(srv);
  EXPECT_EQ(c.status(), 599);
  EXPECT_EQ(c.body(), "custom");

  srv.error_handler([](request&, response&, std::exception_ptr e) { std::rethrow_exception(e); });
  EXPECT_TRUE(ht::request_builder().path("/bug").call(srv).aborted());
  EXPECT_FALSE(ht::request_builder().path("/nowhere").call(srv).aborted());
}

TEST(testing, server_calls_answer_a_timeout_with_503) {
  ht::server<> srv;
  srv.get("/", [](request&, response& res) {
    res.header("X-Dropped", "1");
    throw timeout_error(std::chrono::milliseconds(5));
  });
  auto r = ht::request_builder().call(srv);
  EXPECT_EQ(r.status(), 503);
  EXPECT_EQ(r.body(), "Service Unavailable: the handler timed out");
  EXPECT_FALSE(r.header("X-Dropped"));
  EXPECT_THROW(std::rethrow_exception(r.exception()), timeout_error);
}

TEST(testing, failure_after_the_head_was_sent_aborts) {
  ht::server<> srv;
  srv.get("/", [](request&, response& res) {
    res.chunk("partial");
    throw std::runtime_error("late");
  });
  auto r = ht::request_builder().call(srv);
  EXPECT_TRUE(r.aborted());
  EXPECT_TRUE(r.streamed());
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.body(), "partial");
  EXPECT_TRUE(r.exception());
}

// ---- streaming ----

TEST(testing, chunks_are_captured_with_the_head_as_sent) {
  auto r = ht::request_builder().call([](request&, response& res) {
    res.status = 206;
    res.header("X-Before", "1");
    res.chunk("alpha ");
    res.header("X-After", "2");  // too late for the wire
    res.chunk("");
    res.chunk("beta");
  });
  EXPECT_TRUE(r.streamed());
  EXPECT_EQ(r.status(), 206);
  EXPECT_EQ(r.pieces(), (std::vector<std::string>{"alpha ", "beta"}));
  EXPECT_EQ(r.body(), "alpha beta");
  EXPECT_EQ(r.header("X-Before"), "1");
  EXPECT_FALSE(r.header("X-After"));
}

TEST(testing, writer_buffers_then_streams_past_the_server_buffer) {
  auto small = ht::request_builder().call([](request&, response& res) { res.writer() << "a" << "b"; });
  EXPECT_FALSE(small.streamed());
  EXPECT_EQ(small.body(), "ab");

  server_config config;
  config.writer_buffer = 4;
  auto big = ht::request_builder(config).call([](request&, response& res) { res.writer() << "abc" << "def" << "g"; });
  EXPECT_TRUE(big.streamed());
  EXPECT_EQ(big.pieces(), (std::vector<std::string>{"abcdef", "g"}));
  EXPECT_EQ(big.body(), "abcdefg");
}

TEST(testing, server_sent_events_are_parsed) {
  auto r = ht::request_builder().call([](request&, response& res) {
    auto events = res.start_event_stream();
    events.send("first");
    events.comment("keep-alive");
    events.send({.data = "line 1\nline 2", .event = "update", .id = "42", .retry = std::chrono::milliseconds(1500)});
    events.comment();
  });
  EXPECT_TRUE(r.streamed());
  EXPECT_EQ(r.header("Content-Type"), "text/event-stream");
  EXPECT_EQ(r.header("Cache-Control"), "no-cache");
  ASSERT_EQ(r.pieces().size(), 4u);
  EXPECT_EQ(r.pieces()[1], ": keep-alive\n\n");
  EXPECT_EQ(r.events(),
            (std::vector<ht::received_event>{{.data = "first"},
                                             {.type = "update",
                                              .id = "42",
                                              .data = "line 1\nline 2",
                                              .retry = std::chrono::milliseconds(1500)}}));
  EXPECT_EQ(r.comments(), (std::vector<std::string>{"keep-alive", ""}));
}

TEST(testing, event_parsing_follows_the_html_rules) {
  // CRLF and CR line ends, no space after the colon, a field without colon, unknown
  // fields, a bad retry, and an unterminated last event.
  auto r = ht::request_builder().call([](request&, response& res) {
    res.chunk("data:a\r\ndata\r\nfoo: bar\r\n\r\n");
    res.chunk("event: e\rdata:  two spaces\rretry: 1x\r\r");
    res.chunk("id: only-id\n\n");
    res.chunk("data: unfinished\n");
  });
  EXPECT_EQ(r.events(), (std::vector<ht::received_event>{
                            {.data = "a\n"}, {.type = "e", .data = " two spaces"}, {.id = "only-id"}}));
}

TEST(testing, disconnect_ends_an_endless_stream) {
  int sent = 0;
  bool saw_gone = false;
  auto endless = [&](request&, response& res) {
    auto events = res.start_event_stream();
    try {
      for (;; ++sent) events.send({.data = "tick " + std::to_string(sent)});
    } catch (const client_gone&) {
      saw_gone = true;
      throw;
    }
  };
  auto r = ht::request_builder().disconnect_after(3).call(endless);
  EXPECT_TRUE(r.client_gone());
  EXPECT_FALSE(r.exception());
  EXPECT_TRUE(saw_gone);
  EXPECT_EQ(sent, 3);
  ASSERT_EQ(r.events().size(), 3u);
  EXPECT_EQ(r.events()[2].data, "tick 2");

  ht::server<> srv;
  srv.get("/events", endless);
  sent = 0;
  auto through = ht::request_builder().path("/events").disconnect_after(0).call(srv);
  EXPECT_TRUE(through.client_gone());
  EXPECT_FALSE(through.aborted());
  EXPECT_EQ(through.status(), 200);
  EXPECT_TRUE(through.events().empty());
}

// ---- request bodies ----

std::vector<std::string> read_pieces(request& req) {
  std::vector<std::string> pieces;
  while (auto p = req.read_body_some()) pieces.emplace_back(*p);
  return pieces;
}

TEST(testing, body_pieces_arrive_one_by_one) {
  for (bool chunked : {false, true}) {
    std::vector<std::string> seen;
    auto r = ht::request_builder()
                 .method(method::post)
                 .body_pieces({"he", "", "llo ", "world"})
                 .chunked(chunked)
                 .call([&](request& req, response& res) {
                   seen = read_pieces(req);
                   res.body = std::string(req.header(chunked ? "Transfer-Encoding" : "Content-Length").value_or("?"));
                 });
    EXPECT_EQ(seen, (std::vector<std::string>{"he", "llo ", "world"})) << chunked;
    EXPECT_EQ(r.body(), chunked ? "chunked" : "11");
  }
}

TEST(testing, body_concatenates_pieces) {
  for (bool chunked : {false, true}) {
    auto r = ht::request_builder().body_pieces({"a", "bc", "def"}).chunked(chunked).call([](request& req, response& res) {
      res.body = std::string(req.body()) + "|" + std::string(req.body());
    });
    EXPECT_EQ(r.body(), "abcdef|abcdef");
  }
}

TEST(testing, empty_and_absent_bodies) {
  auto check = [](const ht::request_builder& b) {
    return b.call([](request& req, response& res) {
      res.body = std::string(req.body()) + "/" + std::string(req.header("Content-Length").value_or("none"));
    });
  };
  EXPECT_EQ(check(ht::request_builder()).body(), "/none");
  EXPECT_EQ(check(ht::request_builder().body("")).body(), "/0");
  EXPECT_EQ(check(ht::request_builder().chunked()).body(), "/none");
}

TEST(testing, body_limits_are_the_servers) {
  server_config config;
  config.limits.max_body_size = 4;
  for (bool chunked : {false, true}) {
    auto b = ht::request_builder(config).method(method::post).body_pieces({"abc", "de"}).chunked(chunked);
    try {
      b.call([](request& req, response&) { (void)req.body(); });
      ADD_FAILURE() << "no 413, chunked=" << chunked;
    } catch (const status_error& e) {
      EXPECT_EQ(e.status(), 413u) << chunked;
    }
    EXPECT_EQ(ht::request_builder(config).body("1234").call([](request& req, response& res) { res.body = req.body(); }).body(),
              "1234");
  }

  ht::server<> srv(config);
  srv.post("/", [](request& req, response& res) { res.json(req.json()); });
  auto r = ht::request_builder().method(method::post).body("too long").call(srv);
  EXPECT_EQ(r.status(), 413);
  EXPECT_EQ(ht::request_builder().method(method::post).body("[1]").call(srv).body(), "[1]");
  auto bad_json = ht::request_builder().method(method::post).body("{").call(srv);
  EXPECT_EQ(bad_json.status(), 400);
}

TEST(testing, query_limit_is_the_servers) {
  server_config config;
  config.limits.max_query_params = 2;
  auto b = ht::request_builder(config).path("/?a=1&b=2&c=3");
  EXPECT_THROW(b.call([](request& req, response&) { (void)req.query(); }), status_error);
  EXPECT_EQ(ht::request_builder(config).path("/?a=1&b=2").call([](request& req, response& res) {
    res.body = std::string(req.query("b").value_or("-"));
  }).body(), "2");
}

// ---- the builder ----

TEST(testing, builder_rejects_requests_a_parser_would_not_produce) {
  ht::request_builder b;
  EXPECT_THROW(b.method(method::other), std::invalid_argument);
  EXPECT_THROW(b.method("GE T"), std::invalid_argument);
  EXPECT_THROW(b.method(""), std::invalid_argument);
  EXPECT_THROW(b.path("users"), std::invalid_argument);
  EXPECT_THROW(b.path("/a b"), std::invalid_argument);
  EXPECT_THROW(b.header("X-A", "b\r\nX-Injected: 1"), std::invalid_argument);
  EXPECT_THROW(b.header("X A", "b"), std::invalid_argument);
  EXPECT_THROW(b.header("content-length", "3"), std::invalid_argument);
  EXPECT_THROW(b.header("Transfer-Encoding", "chunked"), std::invalid_argument);
  EXPECT_THROW(b.version(20), std::invalid_argument);
  auto old = ht::request_builder().version(10).chunked();
  EXPECT_THROW(old.call([](request&, response&) {}), std::invalid_argument);
}

TEST(testing, other_methods_keep_their_token) {
  auto r = ht::request_builder().method("PROPFIND").call([](request& req, response& res) {
    res.body = std::string(req.method_name()) + (req.method() == method::other ? " other" : " known");
  });
  EXPECT_EQ(r.body(), "PROPFIND other");
  EXPECT_EQ(ht::request_builder().method("PATCH").call([](request& req, response& res) {
    res.body = req.method() == method::patch ? "patch" : "?";
  }).body(), "patch");
}

TEST(testing, a_builder_can_be_called_again) {
  int calls = 0;
  auto b = ht::request_builder().body_pieces({"x", "y"});
  auto h = [&](request& req, response& res) {
    ++calls;
    res.body = std::string(req.body());
  };
  EXPECT_EQ(b.call(h).body(), "xy");
  EXPECT_EQ(b.call(h).body(), "xy");
  EXPECT_EQ(calls, 2);
  b.path("/p?x=1").query("y", "2");
  EXPECT_EQ(b.call([](request& req, response& res) { res.body = std::string(req.target()); }).body(), "/p?x=1&y=2");
}

TEST(testing, responses_print_for_failure_messages) {
  auto r = ht::request_builder().call([](request&, response& res) {
    res.status = 404;
    res.header("X-Why", "gone");
    res.body = "not here";
  });
  std::ostringstream os;
  os << r;
  EXPECT_EQ(os.str(), "HTTP 404\nX-Why: gone\n\nnot here");
}

}  // namespace
}  // namespace dusty::http
