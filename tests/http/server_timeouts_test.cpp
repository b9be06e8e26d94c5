// Timeouts, with short settings so the tests stay quick: a slow request head (slowloris),
// a slow body, idle keep-alive connections, a handler deadline, and a client that stops
// reading while another one on the same shard must still be served promptly.
#include <dusty/http/server.hpp>

#include "http/server_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

namespace {

using namespace dusty::http::server_test;
namespace http = dusty::http;

struct timeout_state {
  flag big_started;
  flag big_gone;
  std::atomic<long long> big_sent{0};
};

void timeout_routes(http::server<>& srv, timeout_state& st) {
  srv.get("/", [](http::request&, http::response& res) { res.body = "ok"; });
  srv.post("/echo", [](http::request& req, http::response& res) { res.body = std::string(req.body()); });
  srv.get("/sleep", [](http::request&, http::response& res) {
    dusty::sleep_for(10s);
    res.body = "woke";
  });
  srv.get("/sleep-after-head", [](http::request&, http::response& res) {
    res.chunk("started");
    dusty::sleep_for(10s);
    res.chunk("finished");
  });
  srv.get("/big", [&st](http::request&, http::response& res) {
    std::string piece = pattern(64 * 1024);
    st.big_started.set();
    try {
      for (int i = 0; i < 100'000; ++i) {  // 6 GB: far more than any socket buffer holds
        res.chunk(piece);
        st.big_sent += static_cast<long long>(piece.size());
      }
    } catch (const http::client_gone&) {
      st.big_gone.set();
      throw;
    }
  });
}

class timeouts : public ::testing::Test {
 protected:
  static http::server_config config() {
    auto c = local_config();
    c.timeouts.request_head = 300ms;
    c.timeouts.keep_alive = 300ms;
    c.timeouts.body_read = 300ms;
    c.timeouts.handler = 1000ms;
    c.timeouts.write = 1000ms;
    return c;
  }
  timeout_state st_;
  live_server<> srv_{[this](http::server<>& s) { timeout_routes(s, st_); }, config()};
};

// Sends `head` one byte every 30 ms until the server answers; returns the time from the
// first byte to the answer, and the response.
std::pair<clock_type::duration, std::optional<parsed_response>> dribble(raw_client& c, std::string_view head) {
  auto start = clock_type::now();
  for (char byte : head) {
    if (!c.silent_for(30ms)) break;
    if (!c.try_send(std::string_view(&byte, 1))) break;
  }
  auto r = c.read_response();
  return {clock_type::now() - start, std::move(r)};
}

TEST_F(timeouts, slowloris_gets_408_and_is_closed) {
  auto c = srv_.connect();
  std::string head = get_request("/", "X-Padding: " + std::string(100, 'p') + "\r\n");  // about 4 s at this pace
  auto [took, r] = dribble(c, head);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408u);
  EXPECT_TRUE(r->closes());
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(timeouts, slowloris_on_a_kept_alive_connection_gets_408) {
  auto c = srv_.connect();
  c.send(get_request("/"));
  ASSERT_TRUE(c.read_response());
  auto [took, r] = dribble(c, get_request("/", "X-Padding: " + std::string(100, 'p') + "\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408u);
  EXPECT_LT(took, 3s);
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(timeouts, slow_body_gets_408_and_is_closed) {
  auto c = srv_.connect();
  auto start = clock_type::now();
  c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408u);
  EXPECT_TRUE(r->closes());
  EXPECT_GE(clock_type::now() - start, 250ms);
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(timeouts, idle_keep_alive_connection_is_closed_silently) {
  auto c = srv_.connect();
  c.send(get_request("/"));
  ASSERT_TRUE(c.read_response());
  auto start = clock_type::now();
  std::string extra;
  ASSERT_TRUE(c.wait_closed(5s, &extra));
  auto idle = clock_type::now() - start;
  EXPECT_EQ(extra, "");
  EXPECT_GE(idle, 250ms);
  EXPECT_LT(idle, 3s);
}

TEST_F(timeouts, connection_that_never_sends_is_closed) {
  auto c = srv_.connect();
  auto start = clock_type::now();
  std::string extra;
  ASSERT_TRUE(c.wait_closed(5s, &extra));
  EXPECT_EQ(extra, "");
  EXPECT_GE(clock_type::now() - start, 250ms);
}

TEST_F(timeouts, handler_deadline_gives_503_and_the_connection_goes_on) {
  auto c = srv_.connect();
  auto start = clock_type::now();
  c.send(get_request("/sleep"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  auto took = clock_type::now() - start;
  EXPECT_EQ(r->status, 503u);
  EXPECT_GE(took, 950ms);
  EXPECT_LT(took, 4s);
  c.send(get_request("/"));
  auto next = c.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "ok");
}

TEST_F(timeouts, handler_deadline_after_the_head_cuts_the_stream) {
  // The status is already sent; all the server can do is end the connection without the
  // final chunk, so the client sees an incomplete response rather than a complete one.
  auto c = srv_.connect();
  c.send(get_request("/sleep-after-head"));
  std::string all;
  ASSERT_TRUE(c.wait_closed(5s, &all));
  EXPECT_NE(all.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(all.find("started"), std::string::npos);
  EXPECT_EQ(all.find("finished"), std::string::npos);
  EXPECT_EQ(all.find("\r\n0\r\n\r\n"), std::string::npos) << "a cut stream must not look complete";
}

TEST(write_timeout, client_that_stops_reading_is_dropped_without_delaying_others) {
  // One shard, so both clients share it; no handler deadline, so only the write timeout
  // can end the stuck response.
  auto config = local_config();
  config.timeouts.write = 1000ms;
  timeout_state st_;
  live_server<> srv_([&](http::server<>& s) { timeout_routes(s, st_); }, config, 1);
  auto slow = srv_.connect(/*rcvbuf=*/4096);
  slow.send(get_request("/big"));
  ASSERT_TRUE(st_.big_started.wait());

  // While the slow client's writes are stuck, another client is served at once, many times.
  auto fast = srv_.connect();
  clock_type::duration worst{};
  for (int i = 0; i < 50; ++i) {
    auto start = clock_type::now();
    fast.send(get_request("/"));
    auto r = fast.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "ok");
    worst = std::max(worst, clock_type::now() - start);
  }
  EXPECT_LT(worst, 250ms);
  EXPECT_FALSE(st_.big_gone.is_set()) << "the slow client was dropped before the others were served";

  // Then the slow one is dropped after the write timeout (1 s), not kept forever.
  EXPECT_TRUE(st_.big_gone.wait(10s));
  EXPECT_LT(st_.big_sent.load(), 1LL << 30);
  std::string rest;
  EXPECT_TRUE(slow.wait_closed(io_limit, &rest));
}

}  // namespace
