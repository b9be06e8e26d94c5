// Bodies in pieces, both ways: chunked and streamed request bodies, chunked responses,
// the buffered writer, close-delimited bodies for HTTP/1.0 clients, Server-Sent Events.
#include <dusty/http/server.hpp>

#include "http/server_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

namespace {

using namespace dusty::http::server_test;
namespace http = dusty::http;

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

struct streaming_state {
  std::atomic<int> sse_gone{0};
  flag sse_started;
};

void streaming_routes(http::server<>& srv, streaming_state& st) {
  srv.post("/echo", [](http::request& req, http::response& res) {
    res.header("X-Framing", req.header("transfer-encoding") ? "chunked" : "length");
    res.body = std::string(req.body());
  });
  srv.post("/upload", [](http::request& req, http::response& res) {
    std::size_t pieces = 0, bytes = 0, largest = 0;
    std::uint64_t h = fnv1a("");
    while (auto piece = req.read_body_some()) {
      ++pieces;
      bytes += piece->size();
      largest = std::max(largest, piece->size());
      h = fnv1a(*piece, h);
    }
    res.json({{"pieces", pieces}, {"bytes", bytes}, {"largest", largest}, {"hash", std::to_string(h)}});
  });
  srv.get("/chunks", [](http::request&, http::response& res) {
    for (std::size_t n : {1, 10, 100, 1000, 10000}) res.chunk(pattern(n, static_cast<unsigned>(n)));
  });
  srv.get("/writer/:n", [](http::request& req, http::response& res) {
    std::size_t n = std::stoul(std::string(req.param("n")));
    res.content_type("text/plain");
    std::string all = pattern(n);
    for (std::size_t i = 0; i < n; i += 100) res.writer() << std::string_view(all).substr(i, 100);
  });
  srv.get("/events", [](http::request&, http::response& res) {
    auto events = res.start_event_stream();
    events.send({.data = "first"});
    events.send({.data = "line one\nline two", .event = "update", .id = "7", .retry = std::chrono::milliseconds(1500)});
    events.comment("keep-alive");
    events.send("last");
  });
  srv.get("/forever", [&st](http::request&, http::response& res) {
    auto events = res.start_event_stream();
    st.sse_started.set();
    try {
      for (int i = 0; i < 100000; ++i) {
        events.send(std::to_string(i));
        dusty::sleep_for(5ms);
      }
    } catch (const http::client_gone&) {
      ++st.sse_gone;
      throw;
    }
  });
  srv.get("/big-body", [](http::request&, http::response& res) { res.body = pattern(5 * 1024 * 1024, 11); });
  srv.get("/two-chunks", [](http::request&, http::response& res) {
    res.chunk("a");
    res.chunk("b");
  });
}

class streaming : public ::testing::Test {
 protected:
  static http::server_config config() {
    auto c = local_config();
    c.writer_buffer = 1024;
    c.limits.max_body_size = 8 * 1024 * 1024;
    return c;
  }
  streaming_state st_;
  live_server<> srv_{[this](http::server<>& s) { streaming_routes(s, st_); }, config()};
};

TEST_F(streaming, chunked_request_body_is_read_whole) {
  std::string body = pattern(50'000);
  std::string wire = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(body, 7000);
  auto c = srv_.connect();
  // Dribble it in uneven writes that split size lines, data and CRLFs.
  for (std::size_t i = 0, step = 1; i < wire.size(); i += step, step = step * 3 % 4093 + 1)
    c.send(std::string_view(wire).substr(i, step));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->header("x-framing"), "chunked");
  EXPECT_EQ(r->body.size(), body.size());
  EXPECT_TRUE(r->body == body);
}

TEST_F(streaming, chunked_request_with_extensions_and_trailers) {
  auto c = srv_.connect();
  c.send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Checksum: 42\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello world");
  c.send(get_request("/chunks"));  // framing intact: the next request parses
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200u);
}

TEST_F(streaming, large_chunked_upload_is_streamed_in_pieces) {
  constexpr std::size_t size = 3 * 1024 * 1024;
  std::string body = pattern(size, 3);
  auto c = srv_.connect();
  c.send("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::string wire = chunked(body, 64 * 1024);
  for (std::size_t i = 0; i < wire.size(); i += 100'000) c.send(std::string_view(wire).substr(i, 100'000));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200u) << r->body;
  auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["bytes"].get<std::size_t>(), size);
  EXPECT_EQ(j["hash"].get<std::string>(), std::to_string(fnv1a(body)));
  // Never buffered whole: each piece fits the connection's input buffer.
  auto limits = config().limits;
  EXPECT_LE(j["largest"].get<std::size_t>(), limits.max_head_size + 4096);
  EXPECT_GE(j["pieces"].get<std::size_t>(), size / (limits.max_head_size + 4096));
}

TEST_F(streaming, content_length_upload_is_streamed_too) {
  constexpr std::size_t size = 1024 * 1024 + 17;
  std::string body = pattern(size, 5);
  auto c = srv_.connect();
  c.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n");
  c.send(body);
  auto r = c.read_response();
  ASSERT_TRUE(r);
  auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["bytes"].get<std::size_t>(), size);
  EXPECT_EQ(j["hash"].get<std::string>(), std::to_string(fnv1a(body)));
}

TEST_F(streaming, chunk_sends_one_chunk_per_call) {
  auto c = srv_.connect();
  c.send(get_request("/chunks"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->chunked);
  EXPECT_FALSE(r->header("content-length"));
  EXPECT_EQ(r->chunk_sizes, (std::vector<std::size_t>{1, 10, 100, 1000, 10000}));
  std::string want;
  for (std::size_t n : {1, 10, 100, 1000, 10000}) want += pattern(n, static_cast<unsigned>(n));
  EXPECT_EQ(r->body, want);
  c.send(get_request("/writer/10"));  // the terminating chunk was complete
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, pattern(10));
}

TEST_F(streaming, large_plain_body_arrives_whole) {
  auto c = srv_.connect();
  c.send(get_request("/big-body") + get_request("/writer/10"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("content-length"), std::to_string(5 * 1024 * 1024));
  EXPECT_TRUE(r->body == pattern(5 * 1024 * 1024, 11));
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, pattern(10));
}

TEST_F(streaming, writer_within_its_buffer_sends_content_length) {
  auto c = srv_.connect();
  c.send(get_request("/writer/1000"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->chunked);
  EXPECT_EQ(r->header("content-length"), "1000");
  EXPECT_EQ(r->body, pattern(1000));
}

TEST_F(streaming, writer_past_its_buffer_switches_to_chunked) {
  auto c = srv_.connect();
  c.send(get_request("/writer/50000"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->chunked);
  EXPECT_EQ(r->header("content-type"), "text/plain");
  EXPECT_GT(r->chunk_sizes.size(), 1u);
  for (auto n : r->chunk_sizes) EXPECT_LE(n, 1024u + 100u);
  EXPECT_TRUE(r->body == pattern(50000));
  c.send(get_request("/writer/10"));
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, pattern(10));
}

TEST_F(streaming, http10_client_gets_a_body_delimited_by_close) {
  for (const char* path : {"/chunks", "/writer/50000"}) {
    auto c = srv_.connect();
    c.send("GET " + std::string(path) + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    auto r = c.read_response();
    ASSERT_TRUE(r) << path;
    EXPECT_FALSE(r->chunked) << path;
    EXPECT_FALSE(r->header("transfer-encoding")) << path;
    EXPECT_FALSE(r->header("content-length")) << path;
    EXPECT_TRUE(r->until_close) << path;
    EXPECT_TRUE(r->closes()) << path;
    std::size_t size = r->body.size();
    EXPECT_EQ(size, std::string(path) == "/chunks" ? 11111u : 50000u) << path;
  }
}

TEST_F(streaming, event_stream_wire_format) {
  auto c = srv_.connect();
  c.send(get_request("/events"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("content-type"), "text/event-stream");
  EXPECT_EQ(r->header("cache-control"), "no-cache");
  EXPECT_TRUE(r->chunked);
  EXPECT_EQ(r->body,
            "data: first\n\n"
            "event: update\nid: 7\nretry: 1500\ndata: line one\ndata: line two\n\n"
            ": keep-alive\n\n"
            "data: last\n\n");
}

TEST_F(streaming, event_stream_ends_when_the_client_goes_away) {
  {
    auto c = srv_.connect();
    c.send(get_request("/forever"));
    ASSERT_TRUE(st_.sse_started.wait());
    std::string seen;
    auto until = clock_type::now() + io_limit;
    while (seen.find("data: 3\n") == std::string::npos && clock_type::now() < until) {
      ASSERT_EQ(c.fill(until), raw_client::fill_result::data);
      seen = c.buffered();
    }
  }  // closed
  auto until = clock_type::now() + io_limit;
  // The handler notices at its next send (within a few ms); bounded by io_limit.
  while (st_.sse_gone.load() == 0 && clock_type::now() < until) {
    auto r = get_once(srv_.port(), "/writer/1");  // the shard keeps serving meanwhile
    ASSERT_TRUE(r);
  }
  EXPECT_EQ(st_.sse_gone.load(), 1);
}

TEST_F(streaming, streamed_pieces_are_not_held_back_by_nagle) {
  // A streamed response goes out in small writes. With Nagle's algorithm on, a piece
  // written while the previous one is unacknowledged waits for the client's delayed ACK
  // (40 ms on Linux once a connection goes back and forth, as keep-alive ones do).
  auto c = srv_.connect();
  std::vector<clock_type::duration> took;
  for (int i = 0; i < 9; ++i) {
    auto start = clock_type::now();
    c.send(get_request("/two-chunks"));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->body, "ab");
    took.push_back(clock_type::now() - start);
  }
  std::sort(took.begin(), took.end());
  EXPECT_LT(took[4], 20ms) << "median time of a two-piece streamed response";
}

}  // namespace
