// ws::session::receive_some(): one large message handed out in pieces as it arrives,
// never assembled, with the limits and UTF-8 validation of receive() still applied.
#include <dusty/http/ws/session.hpp>

#include "http/server_support.hpp"
#include "http/ws/ws_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace dusty::http::server_test {
namespace {

// Streams each message and answers with what it saw: "pieces largest bytes checksum type",
// or, for a message whose pieces break the rules (first/last out of place), "bad order".
void streaming_routes(server<>& srv) {
  srv.websocket("/stream", [](request&, ws::session& ws) {
    std::size_t pieces = 0, largest = 0, bytes = 0;
    std::uint32_t sum = 0;
    bool in_order = true;
    while (auto p = ws.receive_some()) {
      in_order = in_order && p->first == (pieces == 0);
      ++pieces;
      largest = std::max(largest, p->data.size());
      bytes += p->data.size();
      for (unsigned char ch : p->data) sum = sum * 31 + ch;
      if (!p->last) continue;
      ws.send_text(in_order ? std::to_string(pieces) + " " + std::to_string(largest) + " " + std::to_string(bytes) + " " +
                                  std::to_string(sum) + (p->is_text() ? " text" : " binary")
                            : "bad order");
      pieces = largest = bytes = 0;
      sum = 0;
    }
  });
  // One piece, then receive() for the rest of the same message.
  srv.websocket("/mixed", [](request&, ws::session& ws) {
    auto p = ws.receive_some();
    if (!p) return;
    auto rest = ws.receive();
    if (!rest) return;
    ws.send_text(std::to_string(p->data.size() + rest->data.size()) + (p->last ? " whole" : " split"));
  });
}

std::uint32_t checksum(std::string_view s) {
  std::uint32_t sum = 0;
  for (unsigned char ch : s) sum = sum * 31 + ch;
  return sum;
}

std::vector<std::string> fields(const std::string& s) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= s.size()) {
    auto sp = s.find(' ', at);
    out.push_back(s.substr(at, sp == std::string::npos ? std::string::npos : sp - at));
    if (sp == std::string::npos) break;
    at = sp + 1;
  }
  return out;
}

server_config big_config() {
  server_config cfg = local_config();
  cfg.websocket.max_message_size = 8 << 20;
  cfg.websocket.max_frame_size = 8 << 20;
  return cfg;
}

TEST(ws_receive_some, a_large_message_arrives_in_pieces) {
  live_server<> s(streaming_routes, big_config());
  auto c = s.connect();
  open(c, "/stream");
  frame_reader rd(c);
  std::string big = pattern(4 << 20, 7);
  c.send(client_frame(ws::opcode::binary, big));
  auto e = rd.next(10s);
  ASSERT_TRUE(e);
  auto f = fields(e->payload);
  ASSERT_EQ(f.size(), 5u) << e->payload;
  EXPECT_GT(std::stoul(f[0]), 4u) << "one piece per read, not one per message";
  // The connection's input buffer bounds a piece: far below the message.
  EXPECT_LE(std::stoul(f[1]), 256u * 1024) << e->payload;
  EXPECT_EQ(std::stoul(f[2]), big.size());
  EXPECT_EQ(std::stoul(f[3]), checksum(big));
  EXPECT_EQ(f[4], "binary");
}

TEST(ws_receive_some, fragments_pings_and_utf8_split_across_pieces) {
  live_server<> s(streaming_routes, big_config());
  auto c = s.connect();
  open(c, "/stream");
  frame_reader rd(c);
  // "é" and "✓" split across fragments and across sends, a ping between the fragments.
  std::string text = "caf\xc3\xa9 \xe2\x9c\x93 " + std::string(100'000, 'a') + " \xe2\x9c\x93";
  std::string bytes = client_frame(ws::opcode::text, text.substr(0, 4), false) + client_frame(ws::opcode::ping, "p") +
                      client_frame(ws::opcode::continuation, text.substr(4, 3), false) +
                      client_frame(ws::opcode::continuation, text.substr(7));
  for (std::size_t at = 0; at < bytes.size(); at += 997) {
    c.send(bytes.substr(at, 997));
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  auto e = rd.next(10s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ws::event_kind::pong);
  e = rd.next(10s);
  ASSERT_TRUE(e);
  auto f = fields(e->payload);
  ASSERT_EQ(f.size(), 5u) << e->payload;
  EXPECT_GT(std::stoul(f[0]), 2u);
  EXPECT_EQ(std::stoul(f[2]), text.size());
  EXPECT_EQ(std::stoul(f[3]), checksum(text));
  EXPECT_EQ(f[4], "text");
  // An empty message is one piece, first and last.
  c.send(client_frame(ws::opcode::binary, ""));
  e = rd.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->payload, "1 0 0 0 binary");
}

// Pieces already handed out do not lift the limits: bad UTF-8 late in a streamed text
// message is 1007, a message growing past max_message_size over its fragments is 1009.
TEST(ws_receive_some, limits_and_utf8_still_apply) {
  server_config cfg = local_config();
  cfg.websocket.max_message_size = 200'000;
  cfg.websocket.max_frame_size = 200'000;
  live_server<> s(streaming_routes, cfg);
  struct violation {
    std::string bytes;
    std::uint16_t code;
  };
  std::vector<violation> cases = {
      {client_frame(ws::opcode::text, std::string(150'000, 'a') + "\xff"), 1007},
      {client_frame(ws::opcode::text, std::string(100'000, 'a') + "\xe2\x82", false) + client_frame(ws::opcode::continuation, "A"), 1007},
      {client_frame(ws::opcode::binary, std::string(150'000, 'x'), false) +
           client_frame(ws::opcode::continuation, std::string(60'000, 'x')), 1009},
  };
  for (const auto& v : cases) {
    auto c = s.connect();
    open(c, "/stream");
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

TEST(ws_receive_some, receive_finishes_a_message_begun_in_pieces) {
  live_server<> s(streaming_routes, big_config());
  auto c = s.connect();
  open(c, "/mixed");
  frame_reader rd(c);
  std::string bytes = client_frame(ws::opcode::binary, std::string(1 << 20, 'm'));
  c.send(bytes.substr(0, 4000));
  std::this_thread::sleep_for(50ms);
  c.send(bytes.substr(4000));
  auto e = rd.next(10s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->payload, std::to_string(1 << 20) + " split");
}

}  // namespace
}  // namespace dusty::http::server_test
