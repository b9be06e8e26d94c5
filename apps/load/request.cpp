#include "request.hpp"

#include <dusty/http/ws/frame.hpp>

#include <strings.h>

#include <array>
#include <span>

namespace dusty::load {

std::string build_request(const load_options& o, const http::url& u, std::string_view body) {
  std::string r = o.method + " " + u.target + " HTTP/1.1\r\n";
  bool host_given = false;
  for (auto& [name, value] : o.headers) host_given |= ::strcasecmp(name.c_str(), "host") == 0;
  if (!host_given) r += "Host: " + u.authority() + "\r\n";
  for (auto& [name, value] : o.headers) r += name + ": " + value + "\r\n";
  if (o.body_file) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += "\r\n";
  r += body;
  return r;
}

std::string build_ws_handshake(const load_options& o, const http::url& u) {
  std::string r = "GET " + u.target + " HTTP/1.1\r\n";
  bool host_given = false;
  for (auto& [name, value] : o.headers) host_given |= ::strcasecmp(name.c_str(), "host") == 0;
  if (!host_given) r += "Host: " + u.authority() + "\r\n";
  r += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
  for (auto& [name, value] : o.headers) r += name + ": " + value + "\r\n";
  r += "\r\n";
  return r;
}

std::string build_ws_frame(std::size_t size) {
  namespace ws = http::ws;
  const ws::mask_key key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};
  std::array<std::byte, ws::max_header_size> head;
  auto n = ws::write_header(head, ws::opcode::binary, true, size, &key);
  std::string frame(reinterpret_cast<const char*>(head.data()), n);
  std::string payload(size, '\0');
  for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + i % 26);
  ws::apply_mask(std::as_writable_bytes(std::span(payload.data(), payload.size())), key);
  return frame + payload;
}

}  // namespace dusty::load
