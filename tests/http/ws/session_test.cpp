#include <dusty/http/ws/session.hpp>

#include "http/server_support.hpp"
#include "http/ws/frame_case.hpp"
#include "http/ws/ws_client.hpp"

#include <dusty/core/fiber.hpp>
#include <dusty/http/ws/handshake.hpp>

#include <gtest/gtest.h>

#include <atomic>

#include <sys/resource.h>
#include <string>

namespace dusty::http::server_test {
namespace {

void echo_routes(server<>& srv) {
  srv.websocket("/echo", [](request&, ws::session& ws) {
    while (auto m = ws.receive()) ws.send(*m);
  });
}

TEST(ws_handshake, accept_key_matches_the_rfc) {
  EXPECT_EQ(ws::accept_key(key), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(ws_handshake, refusals) {
  live_server<> s([](server<>& srv) {
    echo_routes(srv);
    srv.websocket("/chat", [](request&, ws::session&) {}, {.protocols = {"chat.v2", "chat.v1"}, .origins = {"https://good.example"}});
    auto secret = srv.group("/secret", {[](request&, response& res, const next&) { res.status = 401; }});
    secret.websocket("/ws", [](request&, ws::session&) { ADD_FAILURE() << "middleware let it through"; });
  });
  struct refusal {
    std::string request;
    unsigned status;
  };
  std::string base = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
  std::vector<refusal> cases = {
      {get_request("/echo"), 426},
      {get_request("/echo", base + "Sec-WebSocket-Version: 13\r\n"), 400},
      {get_request("/echo", base + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c2hvcnQ=\r\n"), 400},
      {get_request("/echo", base + "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: " + key + "\r\n"), 426},
      {get_request("/echo", "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n"), 400},
      {upgrade("/chat", "Origin: https://evil.example\r\n"), 403},
      {upgrade("/secret/ws"), 401},
      {upgrade("/nowhere"), 404},
  };
  for (const auto& c : cases) {
    auto client = s.connect();
    client.send(c.request);
    auto res = client.read_response();
    ASSERT_TRUE(res) << c.request;
    EXPECT_EQ(res->status, c.status) << c.request;
    if (c.status == 426 && c.request.find("Version: 8") != std::string::npos) {
      EXPECT_EQ(res->header("sec-websocket-version").value_or(""), "13");
    }
  }
  // The subprotocol: the route's preference among those offered.
  auto client = s.connect();
  client.send(upgrade("/chat", "Origin: https://good.example\r\nSec-WebSocket-Protocol: chat.v1, chat.v2\r\n"));
  auto res = client.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 101u);
  EXPECT_EQ(res->header("sec-websocket-protocol").value_or(""), "chat.v2");
}

// Global middleware sees the upgrade like any request: before (the request) and after
// (status 101, once the session has ended), as an access log would.
TEST(ws_handshake, middleware_sees_the_upgrade_and_its_101) {
  std::mutex m;
  std::vector<std::string> seen;
  flag logged;
  live_server<> s([&](server<>& srv) {
    srv.use([&](request& req, response& res, const next& go) {
      go();
      std::lock_guard lock(m);
      seen.push_back(std::string(req.path()) + " " + std::to_string(res.status) + " " +
                     std::string(req.header("Sec-WebSocket-Key").value_or("-")));
      logged.set();
    });
    echo_routes(srv);
  });
  auto c = s.connect();
  open(c);
  frame_reader rd(c);
  c.send(client_frame(ws::opcode::text, "x"));
  auto e = rd.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->payload, "x");
  c.send(client_frame(ws::opcode::close, ws::close_payload(1000, "")));
  EXPECT_TRUE(c.wait_closed());
  ASSERT_TRUE(logged.wait());
  std::lock_guard lock(m);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "/echo 101 " + key);
}

TEST(ws_session, echo_ping_fragments_and_close_over_raw_frames) {
  live_server<> s(echo_routes);
  auto c = s.connect();
  open(c);
  frame_reader rd(c);
  // Frames may arrive in the same packet as the upgrade.
  c.send(client_frame(ws::opcode::text, "hello") + client_frame(ws::opcode::ping, "are you there"));
  auto e = rd.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ws::event_kind::message);
  EXPECT_EQ(e->type, ws::opcode::text);
  EXPECT_EQ(e->payload, "hello");
  e = rd.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ws::event_kind::pong);
  EXPECT_EQ(e->payload, "are you there");
  // A fragmented binary message with a ping in the middle, sent a byte at a time.
  std::string bytes = client_frame(ws::opcode::binary, "abc", false) + client_frame(ws::opcode::ping, "mid") +
                      client_frame(ws::opcode::continuation, std::string(70000, 'z'), true);
  for (std::size_t i = 0; i < 200; ++i) c.send(bytes.substr(i, 1));
  c.send(bytes.substr(200));
  e = rd.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ws::event_kind::pong);
  e = rd.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, ws::opcode::binary);
  EXPECT_EQ(e->payload, "abc" + std::string(70000, 'z'));
  // Our close is echoed with its code, then the server ends the connection.
  c.send(client_frame(ws::opcode::close, ws::close_payload(4001, "done")));
  e = rd.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ws::event_kind::close);
  EXPECT_EQ(e->code, 4001);
  EXPECT_TRUE(c.wait_closed());
}

// Messages that arrive in one read are answered in one write (send() holds frames while
// more input is buffered): every echo still comes back, in order, with the pongs in their
// place; and a held frame goes out as soon as the sender waits for anything, not only
// in receive().
TEST(ws_session, a_burst_is_answered_in_order_and_held_frames_go_out_when_the_sender_waits) {
  live_server<> s([](server<>& srv) {
    echo_routes(srv);
    srv.websocket("/slow", [](request&, ws::session& ws) {
      while (auto m = ws.receive()) {
        ws.send(*m);
        dusty::sleep_for(2s);  // busy elsewhere: the echo must not wait for the next receive()
      }
    });
  });
  auto c = s.connect();
  open(c);
  frame_reader rd(c);
  std::string burst;
  for (int i = 0; i < 200; ++i) {
    burst += client_frame(ws::opcode::text, "message " + std::to_string(i));
    if (i % 50 == 25) burst += client_frame(ws::opcode::ping, "p" + std::to_string(i));
  }
  c.send(burst);
  for (int i = 0; i < 200; ++i) {
    auto e = rd.next();
    ASSERT_TRUE(e) << i;
    if (e->kind == ws::event_kind::pong) {
      EXPECT_EQ(e->payload, "p" + std::to_string(i - 1));
      e = rd.next();
      ASSERT_TRUE(e) << i;
    }
    ASSERT_EQ(e->kind, ws::event_kind::message) << i;
    EXPECT_EQ(e->payload, "message " + std::to_string(i));
  }

  auto slow = s.connect();
  open(slow, "/slow");
  frame_reader sr(slow);
  auto start = clock_type::now();
  slow.send(client_frame(ws::opcode::text, "first") + client_frame(ws::opcode::text, "second"));
  auto e = sr.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->payload, "first");
  EXPECT_LT(clock_type::now() - start, 1s) << "the held echo waited for the handler's next receive()";
}

// Each violation gets its close code, then the connection ends.
TEST(ws_session, violations_close_with_rfc_codes) {
  server_config cfg = local_config();
  cfg.websocket.max_message_size = 100'000;
  cfg.websocket.max_frame_size = 100'000;
  live_server<> s(echo_routes, cfg);
  struct violation {
    std::string bytes;
    std::uint16_t code;
  };
  std::string huge_header("\x82\xff\x00\x00\x00\x10\x00\x00\x00\x00\x01\x02\x03\x04", 14);  // 64 GiB claimed
  std::vector<violation> cases = {
      {client_frame(ws::opcode::text, "ok\xff"), 1007},
      {client_frame(ws::opcode::text, "\xe2\x82", false) + client_frame(ws::opcode::continuation, "A"), 1007},
      {client_frame(ws::opcode::binary, std::string(100'001, 'x')), 1009},
      {huge_header, 1009},
      {client_frame(ws::opcode::binary, std::string(60'000, 'x'), false) + client_frame(ws::opcode::continuation, std::string(60'000, 'x')), 1009},
      {client_frame(ws::opcode::ping, std::string(126, 'p')), 1002},
      {client_frame(ws::opcode::ping, "x", false), 1002},
      {client_frame(static_cast<ws::opcode>(3), "x"), 1002},
      {"\x81\x02hi", 1002},  // unmasked
      {client_frame(ws::opcode::close, std::string("\x03\xed", 2)), 1002},  // 1005 on the wire
      {client_frame(ws::opcode::continuation, "x"), 1002},
  };
  for (const auto& v : cases) {
    auto c = s.connect();
    open(c);
    frame_reader rd(c);
    (void)c.try_send(v.bytes);
    auto e = rd.next();
    ASSERT_TRUE(e) << v.code;
    EXPECT_EQ(e->kind, ws::event_kind::close) << v.code;
    EXPECT_EQ(e->code, v.code);
    c.shutdown_write();
    EXPECT_TRUE(c.wait_closed());
  }
}

// Eight fibers send to a peer that stops reading: one write is in flight, the others queue
// until the queue passes its limit (1 MiB here) and the
// session is closed with 1008 (the peer sees it once it reads again).
TEST(ws_session, peer_that_stops_reading_is_closed_with_1008) {
  server_config cfg = local_config();
  cfg.websocket.max_queued_bytes = 1 << 20;
  std::atomic<int> senders_done{0};
  live_server<> s(
      [&](server<>& srv) {
        srv.websocket("/flood", [&](request&, ws::session& ws) {
          std::vector<fiber> fs;
          for (int i = 0; i < 8; ++i)
            fs.push_back(spawn([&] {
              std::string big(256 * 1024, 'f');
              while (ws.send_binary(big)) {
              }
              ++senders_done;
            }));
          while (ws.receive()) {
          }
          for (auto& f : fs) f.join();
          EXPECT_EQ(ws.closed_with().code, 1008);
        });
      },
      cfg);
  auto c = s.connect(64 * 1024);
  open(c, "/flood");
  std::this_thread::sleep_for(300ms);  // not reading: the socket fills, then the queue
  frame_reader rd(c);
  std::size_t data_frames = 0;
  std::optional<server_event> e;
  while ((e = rd.next()) && e->kind == ws::event_kind::message) ++data_frames;
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ws::event_kind::close);
  EXPECT_EQ(e->code, 1008);
  EXPECT_GT(data_frames, 0u);
  c.send(client_frame(ws::opcode::close, ws::close_payload(1008, "")));
  EXPECT_TRUE(c.wait_closed());
  for (int i = 0; i < 100 && senders_done < 8; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(senders_done.load(), 8);
}

// The other policy for a peer that stops reading: a single sender is not closed for its
// queue (nothing queues behind a frame being written); it waits, and when the peer has
// read nothing for timeouts.write the connection is dropped and send() returns false.
TEST(ws_session, a_single_sender_to_a_peer_that_stops_reading_waits_then_is_dropped) {
  server_config cfg = local_config();
  cfg.timeouts.write = 500ms;
  std::atomic<int> sent{0};
  std::atomic<int> ended_code{0};
  flag ended;
  live_server<> s(
      [&](server<>& srv) {
        srv.websocket("/single", [&](request&, ws::session& ws) {
          std::string big(256 * 1024, 's');
          while (ws.send_binary(big)) ++sent;
          ended_code = ws.closed_with().code;
          ended.set();
        });
      },
      cfg);
  auto c = s.connect(64 * 1024);
  auto start = clock_type::now();  // before the upgrade: the server cannot start sooner
  open(c, "/single");
  ASSERT_TRUE(ended.wait(10s)) << "the sender never gave up";
  auto took = clock_type::now() - start;
  EXPECT_GE(took, 500ms) << "it waited for the peer first";
  EXPECT_LT(took, 5s);
  EXPECT_EQ(ended_code.load(), ws::close_code::abnormal);
  EXPECT_GT(sent.load(), 0);
  EXPECT_LT(sent.load(), 64) << "bounded by the socket buffers, not grown in memory";
}

// A peer that vanishes (answers nothing, reads nothing, never closes) is found by the
// keep-alive ping: no answer within one interval ends the session.
TEST(ws_session, vanished_peer_ends_by_ping_deadline) {
  server_config cfg = local_config();
  cfg.websocket.ping_interval = 150ms;
  std::atomic<int> ended_code{0};
  flag ended;
  live_server<> s(
      [&](server<>& srv) {
        srv.websocket("/quiet", [&](request&, ws::session& ws) {
          while (ws.receive()) {
          }
          ended_code = ws.closed_with().code;
          ended.set();
        });
      },
      cfg);
  auto c = s.connect();
  open(c, "/quiet");
  auto start = clock_type::now();
  ASSERT_TRUE(ended.wait(5s));
  auto took = clock_type::now() - start;
  EXPECT_EQ(ended_code.load(), 1006);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
  frame_reader rd(c);
  auto e = rd.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ws::event_kind::ping) << "the server pinged before giving up";
}

// A live peer that answers pings stays; idle_timeout closes a silent one with 1001.
TEST(ws_session, pings_answered_keep_it_open_idle_timeout_closes) {
  server_config cfg = local_config();
  cfg.websocket.ping_interval = 100ms;
  cfg.websocket.idle_timeout = 2s;
  live_server<> s(echo_routes, cfg);
  auto c = s.connect();
  open(c);
  frame_reader rd(c);
  auto start = clock_type::now();
  int pongs = 0;
  while (clock_type::now() - start < 600ms) {
    auto e = rd.next();
    ASSERT_TRUE(e);
    ASSERT_EQ(e->kind, ws::event_kind::ping);
    c.send(client_frame(ws::opcode::pong, e->payload));
    ++pongs;
  }
  EXPECT_GE(pongs, 3);
  c.send(client_frame(ws::opcode::text, "still here"));
  auto e = rd.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->payload, "still here");

  cfg.websocket.ping_interval = 0ms;
  cfg.websocket.idle_timeout = 200ms;
  live_server<> quiet(echo_routes, cfg);
  auto q = quiet.connect();
  open(q);
  frame_reader qr(q);
  auto ev = qr.next(3s);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->kind, ws::event_kind::close);
  EXPECT_EQ(ev->code, 1001);
}

// The handler's own close: code and reason reach the peer; a throwing handler gives 1011.
TEST(ws_session, server_close_and_handler_failure) {
  live_server<> s([](server<>& srv) {
    srv.websocket("/bye", [](request&, ws::session& ws) {
      ws.send_text("hi");
      ws.close(4000, "see you");
      EXPECT_FALSE(ws.send_text("too late"));
      EXPECT_FALSE(ws.receive());
    });
    srv.websocket("/throw", [](request&, ws::session&) { throw std::runtime_error("boom"); });
  });
  auto c = s.connect();
  open(c, "/bye");
  frame_reader rd(c);
  auto e = rd.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->payload, "hi");
  e = rd.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ws::event_kind::close);
  EXPECT_EQ(e->code, 4000);
  EXPECT_EQ(e->payload, "see you");
  c.send(client_frame(ws::opcode::close, ws::close_payload(4000, "")));
  EXPECT_TRUE(c.wait_closed());

  auto t = s.connect();
  open(t, "/throw");
  frame_reader tr(t);
  e = tr.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 1011);
}

program_result run_peer(const std::vector<std::string>& args, clock_type::duration limit = 60s) {
  auto r = run_program(args, limit);
  return r;
}

std::string peer_script(const char* name) {
  const char* root = std::getenv("DUSTY_SOURCE_DIR");
  std::filesystem::path dir = root && *root ? std::filesystem::path(root) / "tests/http/ws/peers"
                                            : std::filesystem::path(__FILE__).parent_path() / "peers";
  return (dir / name).string();
}

server_config peer_config() {
  server_config cfg = local_config();
  cfg.websocket.max_message_size = 1 << 20;
  cfg.websocket.max_frame_size = 1 << 20;
  return cfg;
}

TEST(ws_peers, python_websockets_client) {
  live_server<> s(echo_routes, peer_config(), two_shards());
  auto r = run_peer({python_path(), peer_script("python_client.py"), std::to_string(s.port())});
  ASSERT_TRUE(r.status) << "timed out\n" << r.out << r.err;
  EXPECT_EQ(*r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("all ok"), std::string::npos) << r.out << r.err;
}

TEST(ws_peers, node_ws_client) {
  live_server<> s(echo_routes, peer_config(), two_shards());
  setenv("NODE_PATH", "/usr/share/nodejs", 1);
  auto r = run_peer({"/usr/bin/node", peer_script("node_client.js"), std::to_string(s.port())});
  ASSERT_TRUE(r.status) << "timed out\n" << r.out << r.err;
  EXPECT_EQ(*r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("all ok"), std::string::npos) << r.out << r.err;
}

// 1,000 sessions open at once over two shards, each echoing, all within a time bound.
TEST(ws_peers, thousand_sessions_at_once) {
  live_server<> s(echo_routes, peer_config(), two_shards());
  auto r = run_peer({python_path(), peer_script("python_many.py"), std::to_string(s.port()), "1000"}, 90s);
  ASSERT_TRUE(r.status) << "timed out\n" << r.out << r.err;
  EXPECT_EQ(*r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("1000 sessions ok"), std::string::npos) << r.out << r.err;
}

// 10,000 sessions open at once over two shards. The peer is another process: client and
// server sockets together would pass the 20,000 open files a process may have here.
TEST(ws_peers, ten_thousand_sessions_at_once) {
  rlimit files{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
  if (files.rlim_cur < 10'500 && files.rlim_max >= 10'500) {
    files.rlim_cur = files.rlim_max;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &files), 0);
  }
  // A machine whose hard limit is below it cannot hold the sessions: that is a failure to
  // see, not a test to skip (the test machines allow 20,000).
  ASSERT_GE(files.rlim_cur, 10'500u) << "needs 10,500 open files, the limit is " << files.rlim_cur;
  live_server<> s(echo_routes, peer_config(), two_shards());
  auto r = run_peer({python_path(), peer_script("python_many.py"), std::to_string(s.port()), "10000"}, 150s);
  ASSERT_TRUE(r.status) << "timed out\n" << r.out << r.err;
  EXPECT_EQ(*r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("10000 sessions ok"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace dusty::http::server_test
