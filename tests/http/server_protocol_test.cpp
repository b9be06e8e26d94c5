// The server's HTTP/1.x protocol behaviour on the wire, driven by a raw socket: versions
// and keep-alive, pipelining, Expect: 100-continue, HEAD, Date and Server headers, 404/405.
#include <dusty/http/server.hpp>

#include "http/server_support.hpp"

#include <gtest/gtest.h>

#include <ctime>
#include <string>

namespace {

using namespace dusty::http::server_test;
namespace http = dusty::http;

void hello_routes(http::server<>& srv) {
  srv.get("/", [](http::request&, http::response& res) {
    res.content_type("text/plain");
    res.body = "Hello, World!";
  });
  srv.get("/seq/:n", [](http::request& req, http::response& res) { res.body = std::string(req.param("n")); });
  srv.post("/echo", [](http::request& req, http::response& res) { res.body = std::string(req.body()); });
  srv.post("/ignore", [](http::request&, http::response& res) { res.body = "ignored"; });
  srv.post("/reject", [](http::request&, http::response& res) {
    res.status = 401;
    res.body = "no";
  });
  srv.get("/stream", [](http::request&, http::response& res) {
    res.chunk("one ");
    res.chunk("two");
  });
  srv.post("/stream-then-read", [](http::request& req, http::response& res) {
    res.chunk("got: ");
    res.chunk(req.body());
  });
  // Reflects the query into headers, as a careless redirect does.
  srv.get("/go", [](http::request& req, http::response& res) {
    res.status = 302;
    res.header("Location", req.query("to").value_or("/"));
  });
  srv.get("/name", [](http::request& req, http::response& res) {
    res.header(req.query("n").value_or("X"), "1");
    res.body = "named";
  });
}

class protocol : public ::testing::Test {
 protected:
  live_server<> srv_{hello_routes};
};

// Response splitting: a handler reflects a percent-decoded query into a header. The CRLF
// it carries must never reach the wire; the server answers 500 and goes on serving.
TEST_F(protocol, injected_header_lines_never_reach_the_wire) {
  auto c = srv_.connect();
  c.send("GET /go?to=/home%0d%0aSet-Cookie:%20sid=evil%0d%0a%0d%0aHTTP/1.1%20200%20OK HTTP/1.1\r\nHost: t\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500u);
  EXPECT_FALSE(r->header("set-cookie"));
  EXPECT_FALSE(r->header("location"));
  for (const auto& [name, value] : r->headers) EXPECT_EQ(value.find("evil"), std::string::npos) << name;
  EXPECT_EQ(r->body.find("evil"), std::string::npos) << r->body;

  c.send("GET /name?n=X-A:%20b%0d%0aX-Injected HTTP/1.1\r\nHost: t\r\n\r\n");
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500u);
  EXPECT_FALSE(r->header("x-injected"));

  c.send("GET /go?to=/ok HTTP/1.1\r\nHost: t\r\n\r\n");  // the connection still serves
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 302u);
  EXPECT_EQ(r->header("location"), "/ok");
}

TEST_F(protocol, http10_closes_by_default) {
  auto c = srv_.connect();
  c.send("GET / HTTP/1.0\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "Hello, World!");
  EXPECT_TRUE(r->closes());
  std::string extra;
  EXPECT_TRUE(c.wait_closed(io_limit, &extra));
  EXPECT_EQ(extra, "");
}

TEST_F(protocol, http10_keeps_alive_when_asked) {
  auto c = srv_.connect();
  for (int i = 0; i < 3; ++i) {
    c.send("GET /seq/" + std::to_string(i) + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, std::to_string(i));
    EXPECT_EQ(lower(r->header("connection").value_or("")), "keep-alive");
  }
  c.send("GET / HTTP/1.0\r\n\r\n");
  auto last = c.read_response();
  ASSERT_TRUE(last);
  EXPECT_TRUE(last->closes());
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(protocol, http11_keeps_alive_until_connection_close) {
  auto c = srv_.connect();
  for (int i = 0; i < 5; ++i) {
    c.send(get_request("/seq/" + std::to_string(i)));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->version, 11u);
    EXPECT_EQ(r->body, std::to_string(i));
    EXPECT_FALSE(r->header("connection"));
  }
  c.send(get_request("/", "Connection: close\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->closes());
  std::string extra;
  EXPECT_TRUE(c.wait_closed(io_limit, &extra));
  EXPECT_EQ(extra, "");
}

TEST_F(protocol, pipelined_requests_in_one_write_are_answered_in_order) {
  // GETs, POSTs whose body the handler reads, and POSTs whose body it ignores (the
  // server must skip it to find the next request), all in one write.
  constexpr int n = 300;
  std::string batch;
  for (int i = 0; i < n; ++i) {
    std::string body = "body-" + std::to_string(i);
    if (i % 3 == 0)
      batch += get_request("/seq/" + std::to_string(i));
    else
      batch += std::string(i % 3 == 1 ? "POST /echo" : "POST /ignore") + " HTTP/1.1\r\nHost: t\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  auto c = srv_.connect();
  c.send(batch);
  for (int i = 0; i < n; ++i) {
    auto r = c.read_response();
    ASSERT_TRUE(r) << "response " << i;
    ASSERT_EQ(r->status, 200u);
    std::string want = i % 3 == 0 ? std::to_string(i) : i % 3 == 1 ? "body-" + std::to_string(i) : "ignored";
    ASSERT_EQ(r->body, want) << "response " << i;
  }
  EXPECT_TRUE(c.silent_for(50ms)) << "unexpected bytes after the last response: " << c.buffered();
}

TEST_F(protocol, nothing_after_connection_close_is_served) {
  auto c = srv_.connect();
  c.send(get_request("/seq/1", "Connection: close\r\n") + get_request("/seq/2"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "1");
  EXPECT_TRUE(r->closes());
  std::string extra;
  EXPECT_TRUE(c.wait_closed(io_limit, &extra));
  EXPECT_EQ(extra, "");
}

TEST_F(protocol, absolute_form_target_routes_by_its_path) {
  auto c = srv_.connect();
  c.send("GET http://example.com/seq/9?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "9");
}

TEST_F(protocol, pipelined_chunked_bodies_keep_their_boundaries) {
  std::string batch;
  for (int i = 0; i < 20; ++i)
    batch += "POST " + std::string(i % 2 ? "/echo" : "/ignore") +
             " HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(pattern(1000 + i, i), 333);
  auto c = srv_.connect();
  c.send(batch);
  for (int i = 0; i < 20; ++i) {
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, i % 2 ? pattern(1000 + i, i) : "ignored") << i;
  }
}

TEST_F(protocol, expect_100_continue_sends_100_then_the_response) {
  auto c = srv_.connect();
  c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  auto interim = c.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100u);
  c.send("hello");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "hello");
  // The connection goes on.
  c.send(get_request("/seq/7"));
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "7");
}

TEST_F(protocol, expect_100_continue_rejected_without_reading_closes_cleanly) {
  auto c = srv_.connect();
  c.send("POST /reject HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401u) << "the final status comes without a 100 first";
  EXPECT_EQ(r->body, "no");
  // The client never sent its body, so the server cannot know where the next request
  // starts: it says so and closes. A body sent late is not read as a request.
  EXPECT_TRUE(r->closes());
  c.try_send("GET /seq/1 HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string extra;
  EXPECT_TRUE(c.wait_closed(io_limit, &extra));
  EXPECT_EQ(extra, "");
}

TEST_F(protocol, expect_100_continue_with_body_sent_anyway_still_gets_the_response) {
  // curl sends the body after a second without a 100. The handler ignores it; the server,
  // which never asked for the body, closes (and says so) rather than guess, but the
  // client must still receive the whole response, not a reset.
  auto c = srv_.connect();
  c.send("POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "ignored");
  EXPECT_TRUE(r->closes());
  std::string extra;
  EXPECT_TRUE(c.wait_closed(io_limit, &extra));
  EXPECT_EQ(extra, "");
}

// Found by tests/fuzz/server_connection: the 100 went out in the middle of the streamed
// response whose head was already sent, corrupting its chunked body.
TEST_F(protocol, expect_100_continue_after_the_response_started_sends_no_100) {
  auto c = srv_.connect();
  c.send("POST /stream-then-read HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  c.send("hello");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "got: hello");
}

TEST_F(protocol, head_sends_the_real_length_and_no_body) {
  auto c = srv_.connect();
  c.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
  auto r = c.read_response(/*head_request=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->header("content-length"), "13");
  EXPECT_EQ(r->header("content-type"), "text/plain");
  // Any body byte would now be read as the start of the next response.
  c.send(get_request("/seq/5"));
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200u);
  EXPECT_EQ(next->body, "5");
}

TEST_F(protocol, head_of_a_streamed_response_sends_no_chunks) {
  auto c = srv_.connect();
  c.send("HEAD /stream HTTP/1.1\r\nHost: t\r\n\r\n");
  auto r = c.read_response(true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_FALSE(r->header("content-length"));
  c.send(get_request("/stream"));
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_TRUE(next->chunked);
  EXPECT_EQ(next->body, "one two");
}

// An IMF-fixdate (RFC 9110 section 5.6.7), "Sun, 06 Nov 1994 08:49:37 GMT": it parses and
// prints back to exactly the same text. Returns the time, or -1.
std::time_t imf_fixdate(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0' || text.size() != 29) return -1;
  char again[32];
  std::strftime(again, sizeof again, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return text == again ? timegm(&tm) : -1;
}

TEST_F(protocol, date_header_is_well_formed_current_and_refreshed) {
  auto c = srv_.connect();
  c.send(get_request("/"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->count("date"), 1u);
  auto first = *r->header("date");
  ASSERT_NE(imf_fixdate(first), -1) << first;
  EXPECT_LE(std::abs(imf_fixdate(first) - std::time(nullptr)), 2) << first;

  // It moves on with the clock: within a few seconds of requests it must change.
  std::string later = first;
  auto until = clock_type::now() + 5s;
  for (int i = 0; i < 100000 && later == first && clock_type::now() < until; ++i) {
    c.send(get_request("/"));
    auto next = c.read_response();
    ASSERT_TRUE(next);
    later = *next->header("date");
  }
  ASSERT_NE(imf_fixdate(later), -1) << later;
  EXPECT_GT(imf_fixdate(later), imf_fixdate(first));
}

TEST_F(protocol, unknown_path_is_404_and_wrong_method_is_405_with_allow) {
  auto c = srv_.connect();
  c.send(get_request("/nowhere"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404u);
  c.send("DELETE /seq/1 HTTP/1.1\r\nHost: t\r\n\r\n");
  auto m = c.read_response();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 405u);
  auto allow = m->header("allow");
  ASSERT_TRUE(allow);
  EXPECT_NE(allow->find("GET"), std::string::npos) << *allow;
  EXPECT_NE(allow->find("HEAD"), std::string::npos) << *allow;
  EXPECT_EQ(allow->find("DELETE"), std::string::npos) << *allow;
  // Both leave the connection usable.
  c.send(get_request("/seq/3"));
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "3");
}

TEST(server_header, defaults_to_dusty) {
  live_server<> srv(hello_routes);
  auto r = get_once(srv.port(), "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("server"), "dusty");
}

TEST(server_header, is_configurable) {
  auto config = local_config();
  config.server_name = "test-server/1.0";
  live_server<> srv(hello_routes, config);
  auto r = get_once(srv.port(), "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("server"), "test-server/1.0");
  EXPECT_EQ(r->count("server"), 1u);
}

TEST(server_header, can_be_omitted) {
  auto config = local_config();
  config.server_name = "";
  live_server<> srv(hello_routes, config);
  auto c = srv.connect();
  c.send(get_request("/"));
  auto ok = c.read_response();
  c.send(get_request("/missing"));
  auto missing = c.read_response();
  ASSERT_TRUE(ok && missing);
  EXPECT_EQ(ok->count("server"), 0u);
  EXPECT_EQ(missing->count("server"), 0u);
}

}  // namespace
