// /healthz and /readyz (http/health.hpp) on a real server over loopback: their answers,
// and readiness failing on every shard as soon as a stop begins, while connections are
// still being served.
#include <dusty/http/health.hpp>

#include "http/server_support.hpp"

#include <gtest/gtest.h>

namespace {

using namespace dusty::http::server_test;
namespace http = dusty::http;

TEST(health, healthz_and_readyz_answer_200_while_serving) {
  live_server<> srv([](http::server<>& s) { http::mount_health(s); }, local_config(), two_shards());
  for (auto path : {"/healthz", "/readyz"}) {
    auto r = get_once(srv.port(), path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200u) << path;
    EXPECT_EQ(r->header("cache-control"), "no-store");
  }
  EXPECT_EQ(get_once(srv.port(), "/healthz")->body, "ok\n");
  EXPECT_EQ(get_once(srv.port(), "/readyz")->body, "ready\n");
  auto c = srv.connect();
  c.send("HEAD /readyz HTTP/1.1\r\nHost: test\r\n\r\n");
  auto head = c.read_response(true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200u);
}

TEST(health, paths_can_be_chosen) {
  live_server<> srv([](http::server<>& s) { http::mount_health(s, {.live_path = "/live", .ready_path = "/ready"}); });
  EXPECT_EQ(get_once(srv.port(), "/live")->status, 200u);
  EXPECT_EQ(get_once(srv.port(), "/ready")->status, 200u);
  EXPECT_EQ(get_once(srv.port(), "/healthz")->status, 404u);
}

// With a drain notice the server keeps serving after stop() begins: /readyz answers 503
// on a connection opened before the stop and on new ones (whichever shard takes them),
// /healthz stays 200, each connection closes after its answer, and the stop then completes.
TEST(health, readyz_turns_503_when_a_stop_begins) {
  auto config = local_config();
  config.timeouts.drain_notice = 3s;
  live_server<> srv([](http::server<>& s) { http::mount_health(s); }, config, two_shards());
  auto open = srv.connect();
  open.send(get_request("/readyz"));
  auto before = open.read_response();
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 200u);
  EXPECT_FALSE(before->closes());

  auto started = clock_type::now();
  auto stopped = srv.stop_async();
  std::optional<parsed_response> r;
  for (int i = 0; i < 1000; ++i) {
    open.send(get_request("/readyz"));
    r = open.read_response();
    ASSERT_TRUE(r);
    if (r->status != 200) break;
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(r->status, 503u);
  EXPECT_EQ(r->body, "draining\n");
  EXPECT_TRUE(r->closes());
  EXPECT_TRUE(open.wait_closed());
  for (int i = 0; i < 8; ++i) {
    auto ready = get_once(srv.port(), "/readyz");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 503u);
    auto c = srv.connect();
    c.send(get_request("/healthz") + get_request("/healthz"));
    auto live = c.read_response();
    ASSERT_TRUE(live);
    EXPECT_EQ(live->status, 200u);
    EXPECT_TRUE(live->closes());
    EXPECT_TRUE(c.wait_closed());  // the pipelined second request is not answered
  }
  // Still inside the notice, or the answers above could not have come.
  EXPECT_LT(clock_type::now() - started, 3s);
  finish(stopped);
}

// Without a notice (the default) the listener closes at once, but a request in flight
// when the stop begins still runs, and sees the server draining.
TEST(health, a_request_in_flight_sees_the_drain) {
  std::atomic<bool> entered = false;
  live_server<> srv(
      [&](http::server<>& s) {
        http::mount_health(s);
        s.get("/wait", [&s, &entered](http::request&, http::response& res) {
          entered = true;
          for (int i = 0; i < 10'000 && !s.draining(); ++i) dusty::sleep_for(1ms);
          res.body = s.draining() ? "draining" : "still ready";
        });
      },
      local_config(), two_shards());
  auto c = srv.connect();
  c.send(get_request("/wait"));
  for (int i = 0; i < 10'000 && !entered; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(entered);
  auto stopped = srv.stop_async();
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "draining");
  EXPECT_TRUE(r->closes());
  finish(stopped);
}

}  // namespace
