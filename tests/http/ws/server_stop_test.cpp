// A graceful server stop says 1001 (going away) to every open session: a session blocked
// in receive() ends as soon as the peer answers, and within timeouts.drain when it never
// does.
#include <dusty/http/ws/session.hpp>

#include "http/server_support.hpp"
#include "http/ws/ws_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

namespace dusty::http::server_test {
namespace {

struct ended_log {
  std::atomic<int> sessions{0};
  std::atomic<int> going_away{0};
};

void waiting_routes(server<>& srv, ended_log& log) {
  srv.websocket("/wait", [&log](request&, ws::session& ws) {
    while (auto m = ws.receive()) ws.send(*m);
    if (ws.closed_with().code == ws::close_code::going_away) ++log.going_away;
    ++log.sessions;
  });
}

TEST(ws_server_stop, open_sessions_get_1001_and_end_when_the_peer_answers) {
  server_config cfg = local_config();
  cfg.timeouts.drain = 20s;  // far more than the test may take: the answer ends each session
  ended_log log;
  live_server<> s([&](server<>& srv) { waiting_routes(srv, log); }, cfg, two_shards());
  std::vector<raw_client> clients;
  clients.reserve(8);  // each reader holds a reference to its client
  std::vector<std::unique_ptr<frame_reader>> readers;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(s.connect());
    open(clients.back(), "/wait");
    readers.push_back(std::make_unique<frame_reader>(clients.back()));
  }
  // Each session is live (an echo came back) and blocked in receive() again.
  for (int i = 0; i < 8; ++i) {
    clients[i].send(client_frame(ws::opcode::text, "up"));
    auto e = readers[i]->next();
    ASSERT_TRUE(e);
    ASSERT_EQ(e->payload, "up");
  }
  auto start = clock_type::now();
  auto stopped = s.stop_async();
  for (int i = 0; i < 8; ++i) {
    auto e = readers[i]->next(5s);
    ASSERT_TRUE(e) << "no close frame";
    EXPECT_EQ(e->kind, ws::event_kind::close);
    EXPECT_EQ(e->code, ws::close_code::going_away);
    EXPECT_EQ(e->payload, "server shutting down");
    clients[i].send(client_frame(ws::opcode::close, ws::close_payload(ws::close_code::going_away, "")));
    EXPECT_TRUE(clients[i].wait_closed());
  }
  ASSERT_EQ(stopped.wait_for(5s), std::future_status::ready);
  EXPECT_LT(clock_type::now() - start, 5s) << "the sessions waited for the drain deadline";
  EXPECT_EQ(log.sessions.load(), 8);
  EXPECT_EQ(log.going_away.load(), 8);
}

// A peer that never answers the 1001 still has it sent, and the stop ends by the drain
// deadline (the session is cancelled then).
TEST(ws_server_stop, a_silent_peer_gets_1001_and_the_stop_ends_by_the_drain_deadline) {
  server_config cfg = local_config();
  cfg.timeouts.drain = 1s;
  ended_log log;
  live_server<> s([&](server<>& srv) { waiting_routes(srv, log); }, cfg);
  auto c = s.connect();
  open(c, "/wait");
  std::this_thread::sleep_for(50ms);  // the session is in receive()
  auto start = clock_type::now();
  auto stopped = s.stop_async();
  frame_reader rd(c);
  auto e = rd.next(3s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ws::event_kind::close);
  EXPECT_EQ(e->code, ws::close_code::going_away);
  ASSERT_EQ(stopped.wait_for(5s), std::future_status::ready);
  auto took = clock_type::now() - start;
  EXPECT_LT(took, 3s);
  EXPECT_TRUE(c.wait_closed());
}

}  // namespace
}  // namespace dusty::http::server_test
