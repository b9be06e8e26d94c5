// dusty-chat: one chat room over WebSocket, shared by the clients of every shard.
//
//   GET /            the room's page (HTML with its own JavaScript; nothing from a CDN)
//   GET /ws?name=N   WebSocket: each text message is broadcast to everyone in the room as
//                    {"from":"N","text":"..."}; joins and departures as {"notice":"..."}
//
//   dusty-chat --port 8080 --shards 2
//
// Every session subscribes to one ws::topics topic; a message published on one shard
// reaches the sessions of all of them. Names are 1 to 24 letters, digits, ' ', '_', '-'
// or '.' (else "guest-<shard>-<n>"); a message is valid UTF-8 text (the session checks)
// of at most 4 KiB (larger: closed with 1009), binary ones are refused with 1003. The
// page shows everything with textContent, never as HTML.
//
// Exit status: 0 after SIGINT/SIGTERM, 2 for a configuration it cannot run.
#include <dusty/http/server.hpp>
#include <dusty/http/ws/topics.hpp>

#include <serve_http.hpp>

#include "page.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

namespace http = dusty::http;
namespace ws = dusty::http::ws;

namespace {

constexpr std::string_view room = "room";

std::string chat_name(std::optional<std::string_view> asked) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' || c == '_' ||
           c == '-' || c == '.';
  };
  if (asked && !asked->empty() && asked->size() <= 24 && std::ranges::all_of(*asked, allowed)) return std::string(*asked);
  static thread_local unsigned guests = 0;  // per shard: the shard id keeps names apart
  return "guest-" + std::to_string(dusty::this_shard_id()) + "-" + std::to_string(++guests);
}

std::string notice(std::string_view text) { return nlohmann::json{{"notice", text}}.dump(); }

std::unique_ptr<ws::topics> routes(http::server<>& srv) {
  auto topics = std::make_unique<ws::topics>();
  topics->start();
  srv.get("/", [](http::request&, http::response& res) {
    res.content_type("text/html; charset=utf-8");
    res.body = chat_page;
  });
  srv.websocket("/ws", [t = topics.get()](http::request& req, ws::session& s) {
    std::string name = chat_name(req.query("name"));
    t->subscribe(s, room);
    t->publish_text(room, notice(name + " joined"));
    while (auto m = s.receive()) {
      if (m->is_binary()) {
        s.close(ws::close_code::unsupported_data, "text messages only");
        break;
      }
      if (m->data.find_first_not_of(" \t\r\n") == std::string::npos) continue;
      t->publish_text(room, nlohmann::json{{"from", name}, {"text", m->data}}.dump());
    }
    t->publish_text(room, notice(name + " left"));
  });
  return topics;
}

}  // namespace

int main(int argc, char** argv) {
  return dusty::apps::serve_http(
      argc, argv, "dusty-chat", 8080,
      [](http::server_config& c) {
        c.websocket.max_message_size = 4096;
        c.websocket.max_frame_size = 4096;
      },
      routes);
}
