// Idle connections park without a fiber (http/detail/shard_server.hpp): after idle_hold a
// keep-alive connection holds no fiber and still serves its next request; the keep-alive
// timeout, a graceful stop, draining and max_connections work on parked connections; and
// with limits.max_active_connections far below the connections open, every connection is
// served in turn while no more fibers than that ever serve at once.
#include <dusty/http/h1/server_connection.hpp>
#include <dusty/http/server.hpp>

#include "http/server_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace dusty::http::server_test;
namespace http = dusty::http;

// Past the moment an idle connection parks, with room for a loaded machine.
constexpr auto parked_after = http::h1::idle_hold + 250ms;

std::string get(std::string_view path) { return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n\r\n"; }

http::server_stats total(const std::vector<http::server_stats>& per_shard) {
  http::server_stats t;
  for (const auto& s : per_shard) {
    t.connections_open += s.connections_open;
    t.connections_idle += s.connections_idle;
    t.connections_parked += s.connections_parked;
    t.connections_waiting += s.connections_waiting;
    t.connection_fibers += s.connection_fibers;
  }
  return t;
}

// Polls `stats` (bounded) until `ok` holds for their total.
template <class Server, class Pred>
http::server_stats wait_for_stats(Server& srv, Pred ok) {
  http::server_stats t;
  for (int i = 0; i < 200; ++i) {
    t = total(srv.stats());
    if (ok(t)) break;
    std::this_thread::sleep_for(25ms);
  }
  return t;
}

void hello_routes(http::server<>& s) {
  s.get("/hello", [](http::request&, http::response& res) { res.body = "hello"; });
}

TEST(server_park, idle_connections_hold_no_fiber_and_serve_on) {
  live_server<> srv(hello_routes, local_config(), two_shards());
  constexpr int n = 200;
  std::vector<raw_client> clients;
  for (int i = 0; i < n; ++i) {
    clients.push_back(srv.connect());
    clients.back().send(get("/hello"));
  }
  for (auto& c : clients) {
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "hello");
  }
  auto t = wait_for_stats(srv, [](const http::server_stats& s) { return s.connections_parked == n; });
  EXPECT_EQ(t.connections_open, static_cast<std::size_t>(n));
  EXPECT_EQ(t.connections_parked, static_cast<std::size_t>(n));
  EXPECT_EQ(t.connections_idle, static_cast<std::size_t>(n));
  EXPECT_EQ(t.connection_fibers, 0u);
  // Each wakes for its next request, including one split across reads and a pipelined pair.
  for (int i = 0; i < n; ++i) {
    auto& c = clients[static_cast<std::size_t>(i)];
    if (i % 3 == 0) {
      c.send(get("/hello") + get("/hello"));
      for (int k = 0; k < 2; ++k) {
        auto r = c.read_response();
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(r->body, "hello");
      }
      continue;
    }
    std::string req = get("/hello");
    c.send(req.substr(0, 7));
    if (i % 3 == 1) std::this_thread::sleep_for(1ms);
    c.send(req.substr(7));
    auto r = c.read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->body, "hello");
  }
}

TEST(server_park, a_parked_connection_that_stays_silent_is_closed_at_the_keep_alive_timeout) {
  auto cfg = local_config();
  cfg.timeouts.keep_alive = 800ms;
  live_server<> srv(hello_routes, cfg);
  auto c = srv.connect();
  c.send(get("/hello"));
  ASSERT_TRUE(c.read_response());
  auto start = clock_type::now();
  auto t = wait_for_stats(srv, [](const http::server_stats& s) { return s.connections_parked == 1; });
  EXPECT_EQ(t.connections_parked, 1u);
  EXPECT_TRUE(c.wait_closed(5s));
  auto waited = clock_type::now() - start;
  EXPECT_GE(waited, 700ms);
  EXPECT_LT(waited, 4s);
  t = wait_for_stats(srv, [](const http::server_stats& s) { return s.connections_open == 0; });
  EXPECT_EQ(t.connections_open, 0u);
}

TEST(server_park, a_silent_new_connection_parks_and_is_closed_at_the_head_timeout) {
  auto cfg = local_config();
  cfg.timeouts.request_head = 900ms;
  live_server<> srv(hello_routes, cfg);
  auto quiet = srv.connect();
  auto t = wait_for_stats(srv, [](const http::server_stats& s) { return s.connections_parked == 1; });
  EXPECT_EQ(t.connections_parked, 1u);
  EXPECT_TRUE(quiet.wait_closed(5s));
  // One that speaks after parking is served.
  auto late = srv.connect();
  std::this_thread::sleep_for(parked_after);
  late.send(get("/hello"));
  auto r = late.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello");
}

TEST(server_park, stop_closes_parked_connections_at_once) {
  auto cfg = local_config();
  cfg.timeouts.drain = 20s;
  cfg.timeouts.keep_alive = 60s;
  live_server<> srv(hello_routes, cfg, two_shards());
  std::vector<raw_client> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(srv.connect());
    clients.back().send(get("/hello"));
    ASSERT_TRUE(clients.back().read_response());
  }
  auto t = wait_for_stats(srv, [](const http::server_stats& s) { return s.connections_parked == 20; });
  ASSERT_EQ(t.connections_parked, 20u);
  auto start = clock_type::now();
  auto stopped = srv.stop_async();
  finish(stopped, 10s);
  EXPECT_LT(clock_type::now() - start, 5s) << "parked connections must not wait for the drain timeout";
  for (auto& c : clients) EXPECT_TRUE(c.wait_closed(5s));
}

TEST(server_park, max_connections_counts_parked_connections) {
  auto cfg = local_config();
  cfg.limits.max_connections = 3;
  live_server<> srv(hello_routes, cfg);
  std::vector<raw_client> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(srv.connect());
    clients.back().send(get("/hello"));
    ASSERT_TRUE(clients.back().read_response());
  }
  auto t = wait_for_stats(srv, [](const http::server_stats& s) { return s.connections_parked == 3; });
  ASSERT_EQ(t.connections_parked, 3u);
  auto extra = srv.connect();
  extra.send(get("/hello"));
  auto r = extra.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503u);
  clients[0].send(get("/hello"));
  r = clients[0].read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
}

// More connections than fibers may exist: with max_active_connections = 8, 400 clients
// that each send a request at once are all answered, in turn, and then park; they are
// answered again after parking, while the server never has more than 8 connection fibers.
TEST(server_park, connections_beyond_the_fiber_limit_are_served_in_turn) {
  auto cfg = local_config();
  cfg.limits.max_active_connections = 8;
  std::atomic<int> active{0}, most{0};
  live_server<> srv(
      [&](http::server<>& s) {
        s.get("/slow", [&](http::request&, http::response& res) {
          int now = ++active;
          int seen = most.load();
          while (now > seen && !most.compare_exchange_weak(seen, now)) {
          }
          dusty::sleep_for(2ms);  // the handler suspends: its fiber stays busy meanwhile
          --active;
          res.body = "done";
        });
      },
      cfg);
  constexpr int n = 400;
  for (int round = 0; round < 2; ++round) {
    std::vector<raw_client> clients;
    clients.reserve(n);
    for (int i = 0; i < n; ++i) clients.push_back(srv.connect());
    for (auto& c : clients) c.send(get("/slow"));
    for (auto& c : clients) {
      auto r = c.read_response();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->body, "done");
    }
    auto t = wait_for_stats(srv, [](const http::server_stats& s) { return s.connections_parked == n; });
    EXPECT_EQ(t.connections_parked, static_cast<std::size_t>(n));
    EXPECT_EQ(t.connections_waiting, 0u);
    for (auto& c : clients) c.send(get("/slow"));
    for (auto& c : clients) {
      auto r = c.read_response();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->body, "done");
    }
  }
  EXPECT_LE(most.load(), 8);
  EXPECT_GE(most.load(), 2);
}

TEST(server_park, a_parked_connection_answered_while_draining_is_told_to_close) {
  auto cfg = local_config();
  cfg.timeouts.drain_notice = 3s;
  live_server<> srv(hello_routes, cfg);
  auto c = srv.connect();
  c.send(get("/hello"));
  ASSERT_TRUE(c.read_response());
  auto t = wait_for_stats(srv, [](const http::server_stats& s) { return s.connections_parked == 1; });
  ASSERT_EQ(t.connections_parked, 1u);
  auto stopped = srv.stop_async();  // drains for drain_notice first, still serving
  std::this_thread::sleep_for(200ms);
  c.send(get("/hello"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_TRUE(r->closes());
  finish(stopped, 20s);
}

}  // namespace
