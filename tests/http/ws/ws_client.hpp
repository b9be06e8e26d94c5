#pragma once
// A WebSocket client for the end-to-end tests, on raw_client: the upgrade request, masked
// frames as a client sends them, and a reader for the server's frames.
#include "http/server_support.hpp"

#include <dusty/http/ws/frame.hpp>

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dusty::http::server_test {

inline const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455 section 1.3's example

inline std::string upgrade(std::string_view path, std::string_view extra = {}) {
  return get_request(path, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Key: " + key + "\r\n" + std::string(extra));
}

// A masked frame, as a client sends it.
inline std::string client_frame(ws::opcode op, std::string_view payload, bool fin = true) {
  ws::mask_key mask{std::byte{0x12}, std::byte{0x34}, std::byte{0x56}, std::byte{0x78}};
  std::array<std::byte, ws::max_header_size> head;
  auto n = ws::write_header(head, op, fin, payload.size(), &mask);
  std::string out(reinterpret_cast<const char*>(head.data()), n);
  std::string body(payload);
  ws::apply_mask(std::as_writable_bytes(std::span(body.data(), body.size())), mask);
  return out + body;
}

struct server_event {
  ws::event_kind kind = ws::event_kind::need_more;
  ws::opcode type = ws::opcode::binary;
  std::string payload;
  std::uint16_t code = 0;
};

// Reads the server's frames off a raw client.
class frame_reader {
 public:
  explicit frame_reader(raw_client& c) : c_(c), rd_({.max_frame_size = 64 << 20, .max_message_size = 64 << 20, .expect_masked = false}) {}
  std::optional<server_event> next(clock_type::duration limit = io_limit) {
    auto until = clock_type::now() + limit;
    for (;;) {
      std::string_view buf = c_.buffered();
      buf.remove_prefix(pos_);
      std::size_t used = 0;
      auto ev = rd_.next(std::as_bytes(std::span(buf.data(), buf.size())), used);
      server_event out{ev.kind, ev.type, std::string(ev.payload), ev.code};
      pos_ += used;
      if (ev.kind != ws::event_kind::need_more) return out;
      if (c_.fill(until) != raw_client::fill_result::data) return std::nullopt;
    }
  }

 private:
  raw_client& c_;
  ws::reader rd_;
  std::size_t pos_ = 0;  // of c_.buffered(): what was read already
};

// Sends the upgrade and checks the 101.
inline void open(raw_client& c, std::string_view path = "/echo") {
  c.send(upgrade(path));
  auto res = c.read_response();
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 101u);
  EXPECT_EQ(res->header("sec-websocket-accept").value_or(""), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(lower(res->header("upgrade").value_or("")), "websocket");
}

}  // namespace dusty::http::server_test
