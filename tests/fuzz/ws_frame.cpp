// The WebSocket frame reader (with permessage-deflate), the frame header codec and the
// UTF-8 validator. Input: byte 0 picks the reader's settings (bit 0: a client's reader,
// which expects unmasked frames; bit 1: deflate; bit 2: small size limits); the rest is
// what the peer sends.
//
// Properties: the reader reports the same events whole and byte by byte; a parsed frame
// header written out again parses to the same header; the UTF-8 validator agrees with a
// plain reference decoder, whole and byte by byte.
#include <dusty/http/ws/frame.hpp>
#include <dusty/http/ws/utf8.hpp>

#include "fuzz.hpp"

#include <string>

namespace ws = dusty::http::ws;

namespace {

// Feeds `in` to a reader in pieces of `piece` bytes; the log of its events.
std::string read_events(const ws::reader_config& config, std::string_view in, std::size_t piece) {
  ws::reader rd(config);
  std::string log, buffered;
  for (std::size_t at = 0; at < in.size(); at += piece) {
    buffered += in.substr(at, piece);
    for (;;) {
      std::size_t used = 0;
      auto ev = rd.next(std::as_bytes(std::span(buffered.data(), buffered.size())), used);
      DUSTY_FUZZ_CHECK(used <= buffered.size());
      if (ev.kind == ws::event_kind::message) {
        if (ev.type == ws::opcode::text) DUSTY_FUZZ_CHECK(ws::valid_utf8(ev.payload));
        DUSTY_FUZZ_CHECK(ev.payload.size() <= config.max_message_size);
      }
      if (ev.kind != ws::event_kind::need_more) {  // how often it needs more depends on the pieces
        log += std::to_string(int(ev.kind)) + " " + std::to_string(int(ev.type)) + " " + std::to_string(ev.code) +
               " " + std::string(ev.payload) + "\n";
      }
      if (ev.kind == ws::event_kind::message) rd.take_message();
      buffered.erase(0, used);
      if (ev.kind == ws::event_kind::need_more) break;
      if (ev.kind == ws::event_kind::error) return log;
    }
  }
  return log;
}

// RFC 3629 section 4, decoded code point by code point: no overlong forms, no surrogates,
// nothing above U+10FFFF.
bool reference_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = b < 0x80 ? 0 : (b & 0xE0) == 0xC0 ? 1 : (b & 0xF0) == 0xE0 ? 2 : (b & 0xF8) == 0xF0 ? 3 : 4;
    if (n == 4 || s.size() - i <= n) return false;  // not a lead byte, or cut short
    std::uint32_t cp = n == 0 ? b : n == 1 ? b & 0x1F : n == 2 ? b & 0x0F : b & 0x07;
    for (std::size_t k = 1; k <= n; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = cp << 6 | (c & 0x3F);
    }
    static constexpr std::uint32_t smallest[] = {0, 0x80, 0x800, 0x10000};
    if (cp < smallest[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  ws::reader_config config;
  config.expect_masked = (data[0] & 1) == 0;
  config.deflate = (data[0] & 2) != 0;
  if ((data[0] & 4) != 0) config.max_frame_size = config.max_message_size = 64;
  auto in = dusty::fuzz::text(data + 1, size - 1);

  DUSTY_FUZZ_CHECK(read_events(config, in, in.size() + 1) == read_events(config, in, 1));

  ws::frame_header h;
  auto bytes = std::as_bytes(std::span(in.data(), in.size()));
  if (auto n = ws::parse_header(bytes, h); n > 0 && (h.opcode & 0xF0) == 0 && h.rsv <= 7) {
    std::array<std::byte, ws::max_header_size> out;
    auto m = ws::write_header(out, ws::opcode(h.opcode), h.fin, h.length, h.masked ? &h.mask : nullptr, h.rsv);
    ws::frame_header again;
    DUSTY_FUZZ_CHECK(ws::parse_header(std::span(out.data(), m), again) == m);
    DUSTY_FUZZ_CHECK(again.fin == h.fin && again.rsv == h.rsv && again.opcode == h.opcode &&
                     again.masked == h.masked && again.length == h.length && (!h.masked || again.mask == h.mask));
  }

  bool valid = reference_utf8(in);
  DUSTY_FUZZ_CHECK(ws::valid_utf8(in) == valid);
  ws::utf8_validator v;
  bool ok = true;
  for (char c : in) ok = v.feed(std::string_view(&c, 1)) && ok;
  DUSTY_FUZZ_CHECK((ok && v.complete()) == valid);
  return 0;
}
