// ws::connect: against dusty's own server, against Python's websockets server (a peer
// written by others), and against servers that answer the handshake wrongly.
#include <dusty/http/ws/client.hpp>

#include "http/server_support.hpp"
#include "net/child_process.hpp"

#include <dusty/core/fiber.hpp>
#include <dusty/net/listener.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace dusty::http::server_test {
namespace {

// Runs `body` in a fiber of a runtime of its own (the client's side of each test).
template <class F>
void as_client(F body) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, body);
}

void echo_routes(server<>& srv) {
  srv.websocket("/echo", [](request&, ws::session& ws) {
    while (auto m = ws.receive()) ws.send(*m);
  }, {.protocols = {"chat"}});
  srv.websocket("/bye", [](request&, ws::session& ws) { ws.close(4002, "done here"); });
  // 4 MiB of zeros: a few KiB once compressed.
  srv.websocket("/zeros", [](request&, ws::session& ws) {
    ws.send_binary(std::string(4 << 20, '\0'));
    while (ws.receive()) {
    }
  });
  srv.get("/moved", [](request&, response& res) {
    res.status = 302;
    res.header("Location", "/echo");
  });
}

std::string ws_url(const live_server<>& s, std::string_view path) {
  return "ws://127.0.0.1:" + std::to_string(s.port()) + std::string(path);
}

// The message of the client_error `f` throws ("" if none).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const http::client_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ws_client, echoes_text_binary_and_large_messages_with_dusty) {
  live_server<> s(echo_routes);
  as_client([&] {
    auto ws = ws::connect(ws_url(s, "/echo"), {.protocols = {"other", "chat"}});
    EXPECT_EQ(ws->subprotocol(), "chat");
    EXPECT_EQ(ws->side(), ws::role::client);
    ASSERT_TRUE(ws->send_text("héllo ✓"));
    auto m = ws->receive();
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->is_text());
    EXPECT_EQ(m->data, "héllo ✓");
    std::string big = pattern(700'000, 3);
    ASSERT_TRUE(ws->send_binary(big));
    m = ws->receive();
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->is_binary());
    EXPECT_TRUE(m->data == big);
    EXPECT_TRUE(ws->ping("are you there"));
    ASSERT_TRUE(ws->send_text("after the ping"));
    EXPECT_EQ(ws->receive()->data, "after the ping");  // the pong was taken on the way
    ws->close(ws::close_code::normal, "done");
    EXPECT_FALSE(ws->is_open());
    EXPECT_EQ(ws->closed_with().code, ws::close_code::normal);
  });
}

TEST(ws_client, sees_the_servers_close_code) {
  live_server<> s(echo_routes);
  as_client([&] {
    auto ws = ws::connect(ws_url(s, "/bye"));
    EXPECT_FALSE(ws->receive());
    EXPECT_EQ(ws->closed_with().code, 4002);
    EXPECT_EQ(ws->closed_with().reason, "done here");
  });
}

TEST(ws_client, refuses_redirects_errors_and_bad_urls) {
  live_server<> s(echo_routes);
  as_client([&] {
    auto moved = error_of([&] { ws::connect(ws_url(s, "/moved")); });
    EXPECT_NE(moved.find("status 302"), std::string::npos) << moved;
    EXPECT_NE(moved.find("/echo"), std::string::npos) << moved;
    auto missing = error_of([&] { ws::connect(ws_url(s, "/nowhere")); });
    EXPECT_NE(missing.find("status 404"), std::string::npos) << missing;
    EXPECT_NE(error_of([] { ws::connect("ftp://x/"); }).find("not a ws://"), std::string::npos);
    auto refused = error_of([] { ws::connect("ws://127.0.0.1:1/", {.connect_timeout = std::chrono::seconds(2)}); });
    EXPECT_NE(refused.find("127.0.0.1:1"), std::string::npos) << refused;
    EXPECT_THROW(ws::connect(ws_url(s, "/echo"), {.protocols = {"bad token"}}), std::invalid_argument);
    EXPECT_THROW(ws::connect(ws_url(s, "/echo"), {.headers = {{"X-Evil", "a\r\nInjected: 1"}}}), std::invalid_argument);
  });
}

// A server that answers the upgrade with a canned head: what the client must refuse.
TEST(ws_client, checks_the_handshake_answer) {
  const std::string good_key_answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  struct bad_case {
    std::string head;
    std::string expect;
  };
  std::vector<bad_case> cases{
      {good_key_answer + "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n", "Sec-WebSocket-Accept"},
      {"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n", "Upgrade: websocket"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "status 200"},
      {"garbage\r\n\r\n", "invalid handshake answer"},
  };
  for (const auto& c : cases) {
    as_client([&] {
      auto l = net::listen(*net::socket_address::parse("127.0.0.1:0"));
      ASSERT_TRUE(l);
      auto port = l->local_address().port();
      auto server = dusty::spawn([&] {
        auto conn = l->accept(after(std::chrono::seconds(10)));
        if (!conn) return;
        std::byte buf[4096];
        (void)conn->read_some(buf, after(std::chrono::seconds(10)));
        (void)conn->write(std::as_bytes(std::span(c.head.data(), c.head.size())));
        dusty::sleep_for(std::chrono::milliseconds(200));
      });
      auto why = error_of([&] { ws::connect("ws://127.0.0.1:" + std::to_string(port) + "/"); });
      EXPECT_NE(why.find(c.expect), std::string::npos) << why;
      server.join();
    });
  }
}

std::filesystem::path peers_dir() {
  const char* root = std::getenv("DUSTY_SOURCE_DIR");
  return root && *root ? std::filesystem::path(root) / "tests/http/ws/peers"
                       : std::filesystem::path(__FILE__).parent_path() / "peers";
}

// Starts a peer server script and returns its ws:// base URL ("" if it did not start).
std::string start_peer(net::testing::child& peer) {
  auto line = net::testing::read_line(peer.stdout_fd(), std::chrono::steady_clock::now() + std::chrono::seconds(20));
  if (!line || !line->starts_with("port ")) return "";
  return "ws://127.0.0.1:" + line->substr(5);
}

// Compressible and incompressible messages of every length encoding, echoed by a server
// that compresses (when `compressed`), then a close.
void echo_sizes(ws::session& ws) {
  for (std::size_t size : {0u, 1u, 63u, 64u, 125u, 126u, 65535u, 65536u, 1u << 20}) {
    for (unsigned seed : {0u, 1u}) {
      std::string payload = seed ? pattern(size, size) : std::string(size, 'z');
      ASSERT_TRUE(ws.send_binary(payload));
      auto m = ws.receive();
      ASSERT_TRUE(m) << size << " " << ws.closed_with().reason;
      EXPECT_TRUE(m->data == payload) << size;
    }
  }
  ASSERT_TRUE(ws.send_text("ünïcødé ünïcødé ünïcødé ünïcødé ünïcødé ünïcødé ünïcødé ünïcødé"));
  EXPECT_EQ(ws.receive()->data, "ünïcødé ünïcødé ünïcødé ünïcødé ünïcødé ünïcødé ünïcødé ünïcødé");
  ws.close();
  EXPECT_EQ(ws.closed_with().code, ws::close_code::normal);
}

TEST(ws_client, permessage_deflate_with_dusty_bounded_and_streamed) {
  live_server<> s(echo_routes);
  as_client([&] {
    auto ws = ws::connect(ws_url(s, "/echo"));
    EXPECT_TRUE(ws->permessage_deflate());
    echo_sizes(*ws);
    auto plain = ws::connect(ws_url(s, "/echo"), {.permessage_deflate = false});
    EXPECT_FALSE(plain->permessage_deflate());
    echo_sizes(*plain);
    // A compression bomb: 4 MiB inflated from a few KiB, over the client's 1 MiB limit.
    auto bomb = ws::connect(ws_url(s, "/zeros"));
    EXPECT_FALSE(bomb->receive());
    EXPECT_EQ(bomb->closed_with().code, ws::close_code::message_too_big);
    // The same message streamed: inflated piece by piece, within a limit that allows it.
    ws::connect_options big;
    big.limits.max_message_size = 8 << 20;
    auto streamed = ws::connect(ws_url(s, "/zeros"), big);
    std::size_t pieces = 0, bytes = 0;
    while (auto p = streamed->receive_some()) {
      ++pieces;
      bytes += p->data.size();
      EXPECT_EQ(p->data.find_first_not_of('\0'), std::string::npos);
      if (p->last) break;
    }
    EXPECT_EQ(bytes, std::size_t{4} << 20);
    EXPECT_GT(pieces, 1u);
    streamed->close();
  });
}

TEST(ws_client, permessage_deflate_with_python_websockets) {
  net::testing::child peer({"/usr/bin/python3", (peers_dir() / "python_server.py").string(), "--deflate"});
  std::string base = start_peer(peer);
  ASSERT_FALSE(base.empty()) << "python_server.py did not start";
  as_client([&] {
    auto ws = ws::connect(base + "/ext");
    ASSERT_TRUE(ws->permessage_deflate());
    auto ext = ws->receive();
    ASSERT_TRUE(ext);
    EXPECT_NE(ext->data.find("server_no_context_takeover"), std::string::npos) << ext->data;
    echo_sizes(*ws);
  });
}

TEST(ws_client, permessage_deflate_with_node_ws) {
  setenv("NODE_PATH", "/usr/share/nodejs", 1);
  net::testing::child peer({"/usr/bin/node", (peers_dir() / "node_server.js").string()});
  std::string base = start_peer(peer);
  ASSERT_FALSE(base.empty()) << "node_server.js did not start";
  as_client([&] {
    auto ws = ws::connect(base + "/ext");
    ASSERT_TRUE(ws->permessage_deflate());
    auto ext = ws->receive();
    ASSERT_TRUE(ext);
    EXPECT_NE(ext->data.find("permessage-deflate"), std::string::npos) << ext->data;
    echo_sizes(*ws);
  });
}

TEST(ws_client, talks_to_python_websockets) {
  net::testing::child peer({"/usr/bin/python3", (peers_dir() / "python_server.py").string()});
  std::string base = start_peer(peer);
  ASSERT_FALSE(base.empty()) << "python_server.py did not start";
  as_client([&] {
    auto ws = ws::connect(base + "/", {.protocols = {"echo"}});
    EXPECT_EQ(ws->subprotocol(), "echo");
    for (std::size_t size : {0u, 1u, 125u, 126u, 65535u, 65536u, 1u << 20}) {
      std::string payload = pattern(size, static_cast<unsigned>(size));
      ASSERT_TRUE(ws->send_binary(payload));
      auto m = ws->receive();
      ASSERT_TRUE(m) << size;
      EXPECT_TRUE(m->data == payload) << size;
    }
    ASSERT_TRUE(ws->send_text("ünïcødé"));
    EXPECT_EQ(ws->receive()->data, "ünïcødé");
    ws->close();
    EXPECT_EQ(ws->closed_with().code, ws::close_code::normal);

    auto closing = ws::connect(base + "/close-4001");
    EXPECT_FALSE(closing->receive());
    EXPECT_EQ(closing->closed_with().code, 4001);
    EXPECT_EQ(closing->closed_with().reason, "bye");
  });
}

}  // namespace dusty::http::server_test
