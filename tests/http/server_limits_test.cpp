// Malformed requests, smuggling attempts and limits, sent over a raw socket. Each bad
// request is answered with its status and the connection closed, and the bytes sent
// after it (a "canary" request) are never served: a request smuggled behind a bad one
// must not get through.
#include <dusty/http/server.hpp>

#include "http/server_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

namespace {

using namespace dusty::http::server_test;
namespace http = dusty::http;

class limits : public ::testing::Test {
 protected:
  static http::server_config config() {
    auto c = local_config();
    c.limits.max_request_line = 256;
    c.limits.max_head_size = 2048;
    c.limits.max_headers = 8;
    c.limits.max_body_size = 1000;
    c.limits.max_query_params = 4;
    return c;
  }

  void routes(http::server<>& srv) {
    srv.get("/canary", [this](http::request&, http::response& res) {
      ++canaries_;
      res.body = "canary";
    });
    srv.all("/echo", [](http::request& req, http::response& res) { res.body = std::string(req.body()); });
    srv.all("/ignore", [](http::request&, http::response& res) { res.body = "ignored"; });
    srv.get("/query", [](http::request& req, http::response& res) { res.body = std::to_string(req.query().size()); });
  }

  /// Sends `bad` followed by a canary request in one write; expects `status`, the
  /// connection closed, and the canary never served.
  void expect_rejected(const std::string& bad, unsigned status) {
    auto c = srv_.connect();
    c.send(bad + get_request("/canary"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << bad;
    EXPECT_EQ(r->status, status) << bad;
    EXPECT_TRUE(r->closes()) << "the response should announce the close: " << bad;
    std::string extra;
    EXPECT_TRUE(c.wait_closed(io_limit, &extra)) << bad;
    EXPECT_EQ(extra, "") << "bytes after the rejection: " << bad;
    EXPECT_EQ(canaries_.load(), 0) << "the request after a bad one was served: " << bad;
    // The server itself is fine.
    auto ok = get_once(srv_.port(), "/canary");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200u);
    canaries_ = 0;
  }

  std::atomic<int> canaries_{0};
  live_server<> srv_{[this](http::server<>& s) { routes(s); }, config()};
};

TEST_F(limits, content_length_with_transfer_encoding) {
  expect_rejected("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
  expect_rejected("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400);
}

TEST_F(limits, two_content_lengths) {
  expect_rejected("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400);
  expect_rejected("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 6\r\n\r\nhello!", 400);
}

TEST_F(limits, invalid_chunk_size) {
  expect_rejected("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400);
  expect_rejected("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", 400);
  expect_rejected(
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nhello\r\n0\r\n\r\n", 400);
}

TEST_F(limits, invalid_chunk_size_not_read_by_the_handler) {
  // The handler never reads the body; the server, skipping it, finds the bad framing
  // and must close rather than read on into the canary.
  auto c = srv_.connect();
  c.send("POST /ignore HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" +
         get_request("/canary"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "ignored");
  std::string extra;
  EXPECT_TRUE(c.wait_closed(io_limit, &extra));
  EXPECT_EQ(extra, "");
  EXPECT_EQ(canaries_.load(), 0);
}

TEST_F(limits, bare_lf_line_endings) {
  expect_rejected("GET /echo HTTP/1.1\nHost: t\n\n", 400);
  expect_rejected("GET /echo HTTP/1.1\r\nHost: t\nX-A: b\r\n\r\n", 400);
  expect_rejected("GET /echo HTTP/1.1\r\nHost: t\r\n\n", 400);
}

TEST_F(limits, bare_cr) {
  expect_rejected("GET /echo HTTP/1.1\r\nHost: t\rX-A: b\r\n\r\n", 400);
}

TEST_F(limits, control_bytes_in_fields) {
  expect_rejected(std::string("GET /echo HTTP/1.1\r\nHost: t\r\nX-A: a\0b\r\n\r\n", 41), 400);
  expect_rejected("GET /echo HTTP/1.1\r\nHost: t\r\nX-A: a\x7f\r\n\r\n", 400);
}

TEST_F(limits, whitespace_before_colon) {
  expect_rejected("GET /echo HTTP/1.1\r\nHost: t\r\nContent-Length : 5\r\n\r\nhello", 400);
  expect_rejected("GET /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n", 400);
}

TEST_F(limits, obs_fold) {
  expect_rejected("GET /echo HTTP/1.1\r\nHost: t\r\nX-Long: a\r\n  b\r\n\r\n", 400);
  expect_rejected("GET /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n", 400);
}

TEST_F(limits, malformed_request_lines) {
  expect_rejected("GET /echo HTTP/1.1 \r\nHost: t\r\n\r\n", 400);
  expect_rejected("GET\t/echo HTTP/1.1\r\nHost: t\r\n\r\n", 400);
  expect_rejected(" GET /echo HTTP/1.1\r\nHost: t\r\n\r\n", 400);
  expect_rejected("GET /echo HTTP/01.1\r\nHost: t\r\n\r\n", 400);
  expect_rejected("GET /echo\r\nHost: t\r\n\r\n", 505);  // HTTP/0.9 form
  expect_rejected("GET /echo HTTP/1.1 extra\r\nHost: t\r\n\r\n", 400);
  expect_rejected("GET /ec ho HTTP/1.1\r\nHost: t\r\n\r\n", 400);
  expect_rejected("G(T /echo HTTP/1.1\r\nHost: t\r\n\r\n", 400);
  expect_rejected("GET /echo HTTP/1.1\r\n\r\n", 400);  // no Host
  expect_rejected("GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

TEST_F(limits, request_line_too_long_is_414) {
  expect_rejected(get_request("/" + std::string(300, 'a')), 414);
}

TEST_F(limits, head_too_large_is_431) {
  expect_rejected(get_request("/echo", "X-Big: " + std::string(2100, 'b') + "\r\n"), 431);
  // Many moderate fields adding up past the limit (fewer than max_headers).
  std::string fields;
  for (int i = 0; i < 6; ++i) fields += "X-F" + std::to_string(i) + ": " + std::string(400, 'f') + "\r\n";
  expect_rejected(get_request("/echo", fields), 431);
}

TEST_F(limits, too_many_headers_is_431) {
  std::string fields;
  for (int i = 0; i < 9; ++i) fields += "X-F" + std::to_string(i) + ": v\r\n";
  expect_rejected(get_request("/echo", fields), 431);
}

TEST_F(limits, declared_body_too_large_is_413) {
  expect_rejected("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n" + std::string(1001, 'x'), 413);
  // A handler that does not read it: still no canary (the body is not skipped as if it were small).
  auto c = srv_.connect();
  c.send("POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" + get_request("/canary"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->closes());
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(canaries_.load(), 0);
}

TEST_F(limits, chunked_body_growing_too_large_is_413) {
  expect_rejected("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(std::string(1500, 'x'), 100),
                  413);
  expect_rejected("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(std::string(2000, 'x'), 2000),
                  413);
}

TEST_F(limits, body_at_the_limit_is_accepted) {
  auto c = srv_.connect();
  std::string body(1000, 'x');
  c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" + body);
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, body);
  c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(body, 300));
  auto r2 = c.read_response();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 200u);
  EXPECT_EQ(r2->body, body);
}

TEST_F(limits, too_large_upload_still_gets_its_413) {
  // The client keeps sending a body far beyond the limit while the server answers 413
  // and closes. The answer must reach the client rather than be lost to a reset caused
  // by the unread upload.
  auto c = srv_.connect();
  std::size_t size = 8 * 1024 * 1024;
  c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n");
  std::string piece(64 * 1024, 'u');
  for (std::size_t sent = 0; sent < size; sent += piece.size())
    if (!c.try_send(piece)) break;  // the server may close before all of it is sent
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413u);
}

TEST_F(limits, too_many_query_params_is_400) {
  auto c = srv_.connect();
  c.send(get_request("/query?a=1&b=2&c=3&d=4"));
  auto ok = c.read_response();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200u);
  EXPECT_EQ(ok->body, "4");
  // The request itself is well framed, so unlike the malformed ones above the
  // connection stays usable for the next request.
  c.send(get_request("/query?a=1&b=2&c=3&d=4&e=5") + get_request("/canary"));
  auto bad = c.read_response();
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400u);
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "canary");
}

TEST_F(limits, unsupported_version_and_expectation) {
  expect_rejected("GET /echo HTTP/2.0\r\nHost: t\r\n\r\n", 505);
  expect_rejected("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nExpect: something\r\n\r\nx", 417);
  expect_rejected("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501);
}

TEST(max_connections, beyond_the_limit_get_503_with_retry_after) {
  auto config = local_config();
  config.limits.max_connections = 2;
  live_server<> srv([](http::server<>& s) { s.get("/", [](http::request&, http::response& res) { res.body = "ok"; }); },
                    config);
  // Two connections, each proven accepted by a completed request, stay open.
  auto a = srv.connect();
  auto b = srv.connect();
  for (auto* c : {&a, &b}) {
    c->send(get_request("/"));
    auto r = c->read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200u);
  }
  auto third = srv.connect();
  third.send(get_request("/"));
  auto r = third.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503u);
  EXPECT_EQ(r->header("retry-after"), "1");
  EXPECT_TRUE(r->closes());
  EXPECT_TRUE(third.wait_closed());
  // The two keep being served.
  a.send(get_request("/"));
  auto again = a.read_response();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200u);
  // Once one leaves, a new client is served again (the server notices the close
  // asynchronously, so allow a bounded number of attempts).
  b = raw_client(-1);
  bool served = false;
  auto until = clock_type::now() + io_limit;
  for (int i = 0; i < 1000 && !served && clock_type::now() < until; ++i) {
    auto r2 = get_once(srv.port(), "/");
    ASSERT_TRUE(r2);
    served = r2->status == 200;
  }
  EXPECT_TRUE(served);
}

}  // namespace
