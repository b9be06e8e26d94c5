#include <dusty/http/ws/handshake.hpp>

#include <dusty/http/codec/base64.hpp>
#include <dusty/http/detail/ascii.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

namespace dusty::http::ws {
namespace {

using detail::iequals;
using detail::trim_ows;

// Calls fn(item) for each comma-separated item of every field called `name`.
template <class F>
void for_each_item(const request& req, std::string_view name, F&& fn) {
  for (const auto& f : req.headers()) {
    if (!iequals(f.name, name)) continue;
    std::string_view v = f.value;
    while (!v.empty()) {
      auto comma = v.find(',');
      auto item = trim_ows(v.substr(0, comma));
      if (!item.empty()) fn(item);
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
}

bool has_token(const request& req, std::string_view name, std::string_view token) {
  bool found = false;
  for_each_item(req, name, [&](std::string_view item) { found = found || iequals(item, token); });
  return found;
}

}  // namespace

std::string accept_key(std::string_view key) {
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input;
  input.reserve(key.size() + guid.size());
  input += key;
  input += guid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("SHA-1 unavailable in libcrypto");
  return base64_encode({reinterpret_cast<const char*>(digest), size});
}

handshake_answer check_handshake(const request& req, const route_options& options) {
  handshake_answer out;
  auto refuse = [&](unsigned status, std::string_view why) {
    out.status = status;
    out.reason = why;
    return out;
  };
  if (!has_token(req, "Upgrade", "websocket")) return refuse(426, "this resource speaks WebSocket only");
  if (req.method() != method::get) return refuse(400, "a WebSocket upgrade must be a GET");
  if (req.protocol() != "HTTP/1.1") return refuse(400, "a WebSocket upgrade needs HTTP/1.1");
  if (!has_token(req, "Connection", "upgrade")) return refuse(400, "Connection must include upgrade");
  auto version = req.header("Sec-WebSocket-Version");
  if (!version || trim_ows(*version) != "13") return refuse(426, "Sec-WebSocket-Version must be 13");
  auto key = req.header("Sec-WebSocket-Key");
  if (!key) return refuse(400, "Sec-WebSocket-Key missing");
  auto k = trim_ows(*key);
  // 16 random bytes in base64 are exactly 24 characters ending in "==".
  auto decoded = k.size() == 24 ? base64_decode(k) : std::nullopt;
  if (!decoded || decoded->size() != 16 || k.find_first_not_of(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != std::string_view::npos)
    return refuse(400, "Sec-WebSocket-Key is not 16 bytes in base64");
  if (!options.origins.empty()) {
    if (auto origin = req.header("Origin")) {
      auto o = trim_ows(*origin);
      if (std::ranges::find(options.origins, o) == options.origins.end()) return refuse(403, "Origin not allowed");
    }
  }
  for (const auto& mine : options.protocols) {
    bool offered = false;
    for_each_item(req, "Sec-WebSocket-Protocol", [&](std::string_view item) { offered = offered || item == mine; });
    if (offered) {
      out.protocol = mine;
      break;
    }
  }
  if (options.permessage_deflate) out.deflate = negotiate_deflate(req.headers());
  out.accept = accept_key(k);
  return out;
}

}  // namespace dusty::http::ws
