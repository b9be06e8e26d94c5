#include <dusty/http/ws/deflate.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dusty::http::ws {
namespace {

// "a" as raw DEFLATE in one final block (BFINAL set), as zlib's Z_FINISH writes it.
const std::string final_block("\x4b\x04\x00", 3);

TEST(inflater, a_message_ending_in_a_final_block_needs_no_tail) {
  inflater z;
  std::string out;
  EXPECT_EQ(z.inflate(final_block, out, 100), inflater::result::ok);
  EXPECT_EQ(z.finish(out, 100), inflater::result::ok);
  EXPECT_EQ(out, "a");
}

// Found by tests/fuzz/ws_frame: a byte after the final block was corrupt when it came in
// the same piece, but inflated as a new stream when it came in the next one.
TEST(inflater, bytes_after_a_final_block_are_corrupt_however_split) {
  std::string out;
  inflater whole;
  EXPECT_EQ(whole.inflate(final_block + "x", out, 100), inflater::result::corrupt);
  inflater pieces;
  EXPECT_EQ(pieces.inflate(final_block, out, 100), inflater::result::ok);
  EXPECT_EQ(pieces.inflate("x", out, 100), inflater::result::corrupt);
}

// A client's reading of the server's answer (ws::connect).
TEST(deflate_answer, accepted_parameters) {
  auto a = accept_deflate_answer("permessage-deflate; server_no_context_takeover");
  ASSERT_TRUE(a.params) << a.error;
  EXPECT_EQ(a.params->server_max_window_bits, 15);
  EXPECT_EQ(a.params->client_max_window_bits, 15);
  a = accept_deflate_answer(
      "permessage-deflate;server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; "
      "client_max_window_bits=\"12\"");
  ASSERT_TRUE(a.params) << a.error;
  EXPECT_EQ(a.params->server_max_window_bits, 10);
  EXPECT_EQ(a.params->client_max_window_bits, 12);
}

TEST(deflate_answer, refused_answers_say_why) {
  struct bad {
    const char* answer;
    const char* why;
  };
  for (auto [answer, why] : {
           bad{"x-webkit-deflate-frame", "not offered"},
           bad{"permessage-deflate", "server_no_context_takeover missing"},
           bad{"permessage-deflate; server_no_context_takeover; client_max_window_bits=8", "zlib cannot"},
           bad{"permessage-deflate; server_no_context_takeover; client_max_window_bits", "window size"},
           bad{"permessage-deflate; server_no_context_takeover; server_max_window_bits=16", "window size"},
           bad{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", "repeated"},
           bad{"permessage-deflate; server_no_context_takeover=1", "with a value"},
           bad{"permessage-deflate; server_no_context_takeover; mystery", "unknown"},
           bad{"permessage-deflate; server_no_context_takeover, permessage-deflate", "more than one"},
       }) {
    auto a = accept_deflate_answer(answer);
    EXPECT_FALSE(a.params) << answer;
    EXPECT_NE(a.error.find(why), std::string::npos) << answer << ": " << a.error;
  }
}

// What the client offers, the server accepts: both ends agree to keep no context.
TEST(deflate_answer, the_offer_is_what_dusty_accepts) {
  std::vector<header_field> offer{{"Sec-WebSocket-Extensions", deflate_offer}};
  auto p = negotiate_deflate(offer);
  ASSERT_TRUE(p);
  auto a = accept_deflate_answer(deflate_response(*p));
  ASSERT_TRUE(a.params) << a.error;
}

}  // namespace
}  // namespace dusty::http::ws
