#include <dusty/http/ws/frame.hpp>

#include "http/ws/frame_case.hpp"

#include <gtest/gtest.h>

#include <string>

namespace dusty::http::ws_test {
namespace {

std::string show(std::string_view payload) {
  if (payload.size() <= 80) return escape(payload);
  return escape(payload.substr(0, 40)) + "...(" + std::to_string(payload.size()) + " bytes)";
}

// Feeds `input` to a reader in pieces of the sizes `split` gives and logs what it reports.
// With delivery::pieces, a message's pieces are joined before it is logged: the log must
// be the same as with whole messages.
template <class Split>
std::string run(const test_case& c, Split&& split, ws::delivery how = ws::delivery::whole) {
  ws::reader_config cfg;
  if (auto it = c.limits.find("max_frame_size"); it != c.limits.end()) cfg.max_frame_size = std::stoull(it->second);
  if (auto it = c.limits.find("max_message_size"); it != c.limits.end()) cfg.max_message_size = std::stoull(it->second);
  if (auto it = c.limits.find("expect_masked"); it != c.limits.end()) cfg.expect_masked = it->second == "1";
  if (auto it = c.limits.find("deflate"); it != c.limits.end()) cfg.deflate = it->second == "1";
  ws::reader rd(cfg);
  std::string log, buffered, pieces;
  std::size_t offset = 0;
  bool stopped = false;
  while (offset < c.input.size() && !stopped) {
    std::size_t n = std::min(split(offset), c.input.size() - offset);
    buffered += c.input.substr(offset, n);
    offset += n;
    for (;;) {
      std::size_t used = 0;
      auto ev = rd.next(std::as_bytes(std::span(buffered.data(), buffered.size())), used, how);
      if (used > buffered.size()) ADD_FAILURE() << "reader used more than it was given";
      switch (ev.kind) {
        case ws::event_kind::need_more: break;
        case ws::event_kind::piece:
          if (how != ws::delivery::pieces || ev.payload.empty()) ADD_FAILURE() << "unexpected piece";
          pieces += rd.take_message();
          break;
        case ws::event_kind::message: {
          log += std::string("message ") + (ev.type == ws::opcode::text ? "text " : "binary ") + show(pieces + std::string(ev.payload)) + "\n";
          auto taken = rd.take_message();
          if (taken.size() != ev.payload.size()) ADD_FAILURE() << "take_message differs";
          pieces.clear();
          break;
        }
        case ws::event_kind::ping: log += "ping " + show(ev.payload) + "\n"; break;
        case ws::event_kind::pong: log += "pong " + show(ev.payload) + "\n"; break;
        case ws::event_kind::close: log += "close " + std::to_string(ev.code) + " " + show(ev.payload) + "\n"; break;
        case ws::event_kind::error:
          log += "error " + std::to_string(ev.code) + " " + std::string(ev.payload) + "\n";
          stopped = true;
          break;
      }
      buffered.erase(0, used);
      if (ev.kind == ws::event_kind::need_more || stopped) break;
    }
  }
  if (!stopped && (!buffered.empty() || rd.in_message() || offset < c.input.size())) log += "incomplete\n";
  else if (!stopped) {
    // The reader keeps the position of a frame whose payload is still to come.
    std::size_t used = 0;
    if (rd.next({}, used).kind != ws::event_kind::need_more) log += "unexpected event at end\n";
  }
  return log;
}

class frame_cases : public ::testing::TestWithParam<test_case> {};

TEST_P(frame_cases, whole) {
  const auto& c = GetParam();
  EXPECT_EQ(run(c, [&](std::size_t) { return c.input.size(); }), c.expect) << c.file << ":" << c.line;
}

TEST_P(frame_cases, byte_by_byte) {
  const auto& c = GetParam();
  EXPECT_EQ(run(c, [](std::size_t) { return std::size_t{1}; }), c.expect) << c.file << ":" << c.line;
}

TEST_P(frame_cases, split_in_two) {
  const auto& c = GetParam();
  std::size_t step = c.input.size() > 400 ? c.input.size() / 97 + 1 : 1;
  for (std::size_t cut = 1; cut < c.input.size(); cut += step) {
    auto log = run(c, [&](std::size_t offset) { return offset == 0 ? cut : c.input.size(); });
    ASSERT_EQ(log, c.expect) << c.file << ":" << c.line << " cut at " << cut;
  }
}

// The same cases with each message handed out in pieces as its bytes arrive.
TEST_P(frame_cases, pieces_byte_by_byte) {
  const auto& c = GetParam();
  EXPECT_EQ(run(c, [](std::size_t) { return std::size_t{1}; }, ws::delivery::pieces), c.expect) << c.file << ":" << c.line;
}

TEST_P(frame_cases, pieces_split_in_two) {
  const auto& c = GetParam();
  std::size_t step = c.input.size() > 400 ? c.input.size() / 97 + 1 : 1;
  for (std::size_t cut = 1; cut < c.input.size(); cut += step) {
    auto log = run(c, [&](std::size_t offset) { return offset == 0 ? cut : c.input.size(); }, ws::delivery::pieces);
    ASSERT_EQ(log, c.expect) << c.file << ":" << c.line << " cut at " << cut;
  }
}

std::vector<test_case> all_cases() {
  std::vector<test_case> out;
  for (const char* f : {"frames.md", "control.md", "utf8.md", "limits.md", "deflate.md"}) {
    auto v = load_cases(f);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

std::string case_name(const ::testing::TestParamInfo<test_case>& info) {
  std::string name = info.param.file.substr(0, info.param.file.find('.')) + "_" + std::to_string(info.param.line);
  return name;
}

INSTANTIATE_TEST_SUITE_P(ws, frame_cases, ::testing::ValuesIn(all_cases()), case_name);

TEST(ws_frame, header_round_trip_every_length_encoding) {
  for (std::uint64_t len : {0ull, 1ull, 125ull, 126ull, 127ull, 65535ull, 65536ull, (1ull << 32) + 5, (1ull << 63) - 1}) {
    for (bool masked : {false, true}) {
      std::array<std::byte, ws::max_header_size> head;
      ws::mask_key key{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
      auto n = ws::write_header(head, ws::opcode::binary, true, len, masked ? &key : nullptr);
      std::size_t expect = (len < 126 ? 2 : len <= 0xFFFF ? 4 : 10) + (masked ? 4 : 0);
      EXPECT_EQ(n, expect) << len;
      ws::frame_header h;
      EXPECT_EQ(ws::parse_header(std::span(head.data(), n - 1), h), 0u) << "a short header is incomplete";
      ASSERT_EQ(ws::parse_header(std::span(head.data(), n), h), n);
      EXPECT_EQ(h.length, len);
      EXPECT_EQ(h.masked, masked);
      EXPECT_TRUE(h.fin);
      EXPECT_EQ(h.opcode, 2);
      if (masked) {
        EXPECT_EQ(h.mask, key);
      }
    }
  }
}

TEST(ws_frame, masking_at_any_offset_matches_bytewise) {
  ws::mask_key key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};
  std::string data(1000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  for (std::size_t offset : {0u, 1u, 2u, 3u, 5u}) {
    for (std::size_t len : {0u, 1u, 7u, 8u, 9u, 63u, 1000u}) {
      std::string a = data.substr(0, len);
      ws::apply_mask(std::as_writable_bytes(std::span(a.data(), a.size())), key, offset);
      for (std::size_t i = 0; i < len; ++i)
        ASSERT_EQ(static_cast<unsigned char>(a[i]),
                  static_cast<unsigned char>(data[i]) ^ std::to_integer<unsigned char>(key[(offset + i) & 3]))
            << offset << " " << len << " " << i;
    }
  }
}

TEST(ws_deflate, round_trip_through_deflate_message_and_the_reader) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "message " + std::to_string(i) + " \xe2\x9c\x93 ";
  for (int bits : {9, 12, 15}) {
    std::string z;
    ws::deflate_message(text, bits, z);
    EXPECT_LT(z.size(), text.size() / 4) << bits;
    ws::reader rd({.max_frame_size = 1 << 20, .max_message_size = 1 << 20, .expect_masked = false, .deflate = true});
    std::array<std::byte, ws::max_header_size> head;
    auto n = ws::write_header(head, ws::opcode::text, true, z.size(), nullptr, 4);
    std::string frame(reinterpret_cast<const char*>(head.data()), n);
    frame += z;
    std::size_t used = 0;
    auto ev = rd.next(std::as_bytes(std::span(frame.data(), frame.size())), used);
    ASSERT_EQ(ev.kind, ws::event_kind::message) << ev.payload;
    EXPECT_EQ(ev.payload, text);
    EXPECT_EQ(used, frame.size());
  }
}

TEST(ws_deflate, negotiation) {
  auto offer = [](std::string_view v) {
    std::vector<header_field> fields{{"Sec-WebSocket-Extensions", v}};
    return ws::negotiate_deflate(fields);
  };
  auto p = offer("permessage-deflate; client_max_window_bits");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->server_max_window_bits, 15);
  EXPECT_EQ(ws::deflate_response(*p), "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  p = offer("permessage-deflate; server_max_window_bits=10; client_no_context_takeover");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->server_max_window_bits, 10);
  EXPECT_EQ(ws::deflate_response(*p), "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10");
  // The first acceptable offer wins; unacceptable ones are skipped.
  p = offer("permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=\"12\"");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->server_max_window_bits, 12);
  EXPECT_FALSE(offer("x-webkit-deflate-frame"));
  EXPECT_FALSE(offer("permessage-deflate; unknown_param"));
  EXPECT_FALSE(offer("permessage-deflate; server_no_context_takeover; server_no_context_takeover"));
  EXPECT_FALSE(offer("permessage-deflate; server_no_context_takeover=1"));
  EXPECT_FALSE(offer("permessage-deflate; server_max_window_bits"));
  EXPECT_FALSE(offer("permessage-deflate; server_max_window_bits=16"));
  EXPECT_FALSE(offer("permessage-deflate; client_max_window_bits=7"));
  EXPECT_TRUE(offer("PerMessage-Deflate ; client_max_window_bits=15 ; server_no_context_takeover"));
}

TEST(ws_frame, close_codes_valid_on_the_wire) {
  for (unsigned c : {1000u, 1001u, 1002u, 1003u, 1007u, 1008u, 1009u, 1010u, 1011u, 1012u, 1013u, 1014u, 3000u, 4999u})
    EXPECT_TRUE(ws::close_code_valid(static_cast<std::uint16_t>(c))) << c;
  for (unsigned c : {0u, 999u, 1004u, 1005u, 1006u, 1015u, 1016u, 2000u, 2999u, 5000u, 65535u})
    EXPECT_FALSE(ws::close_code_valid(static_cast<std::uint16_t>(c))) << c;
}

TEST(ws_frame, close_payload_cuts_reason_at_a_character_boundary) {
  std::string reason;
  for (int i = 0; i < 61; ++i) reason += "\xc3\xa9";  // 122 bytes of é
  reason = "xx" + reason;  // 124 bytes: cutting at 123 would split the last é
  auto p = ws::close_payload(1000, reason);
  EXPECT_LE(p.size(), 125u);
  EXPECT_TRUE(ws::valid_utf8(std::string_view(p).substr(2)));
  EXPECT_EQ(ws::close_payload(ws::close_code::no_status, "ignored"), "");
}

}  // namespace
}  // namespace dusty::http::ws_test
