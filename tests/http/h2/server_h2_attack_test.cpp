// Attacks on the HTTP/2 server, each from hand-made frames (h2_attack.py): the attacking
// connection gets GOAWAY with the right code (or its stream RST_STREAM), the work it
// causes stays bounded (handler calls, time), and a fresh connection is served meanwhile
// ("bystander 200").
#include "http/h2/h2_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dusty::http::h2_test {
namespace {

class server_h2_attack : public ::testing::Test {
 protected:
  live_server<> srv{suite_routes};

  /// `wait`: how long to listen after the attack when the connection may stay open.
  attack_result attack(const std::string& scenario, int wait = 5) {
    auto r = run_attack(srv.port(), scenario, wait);
    EXPECT_TRUE(r.has("bystander 200")) << r.out;
    EXPECT_LT(r.took, 15s) << r.out;
    return r;
  }
};

TEST_F(server_h2_attack, rapid_reset) {
  handler_calls = 0;
  auto r = attack("rapid_reset");  // 5000 HEADERS, each followed by its RST_STREAM
  EXPECT_TRUE(r.has("goaway ENHANCE_YOUR_CALM")) << r.out;
  // Most streams are reset before their fiber runs, and the budget stops the rest.
  EXPECT_LT(handler_calls.load(), 1500);
}

TEST_F(server_h2_attack, continuation_flood) {
  auto r = attack("continuation_flood");  // HEADERS then 10,000 empty CONTINUATIONs
  EXPECT_TRUE(r.has("goaway ENHANCE_YOUR_CALM")) << r.out;
}

TEST_F(server_h2_attack, hpack_bomb) {
  auto r = attack("hpack_bomb", 2);  // 16 KiB of block decoding to ~60 MiB of fields
  EXPECT_TRUE(r.has("status 1 431")) << r.out;
}

TEST_F(server_h2_attack, settings_flood) {
  EXPECT_TRUE(attack("settings_flood").has("goaway ENHANCE_YOUR_CALM"));
}

TEST_F(server_h2_attack, ping_flood) { EXPECT_TRUE(attack("ping_flood").has("goaway ENHANCE_YOUR_CALM")); }

TEST_F(server_h2_attack, priority_flood) {
  EXPECT_TRUE(attack("priority_flood").has("goaway ENHANCE_YOUR_CALM"));
}

TEST_F(server_h2_attack, empty_data_flood) {
  EXPECT_TRUE(attack("empty_data_flood").has("goaway ENHANCE_YOUR_CALM"));
}

TEST_F(server_h2_attack, window_update_flood) {
  EXPECT_TRUE(attack("window_update_flood").has("goaway ENHANCE_YOUR_CALM"));
}

TEST_F(server_h2_attack, a_stream_id_that_goes_backwards) {
  auto r = attack("stream_id_backwards", 2);  // stream 5, then 3
  EXPECT_TRUE(r.has("status 5 200")) << r.out;
  EXPECT_TRUE(r.has("rst 3 STREAM_CLOSED")) << r.out;
  EXPECT_FALSE(r.has("status 3")) << r.out;
}

TEST_F(server_h2_attack, a_zero_length_header_name) {
  auto r = attack("empty_header_name", 2);
  EXPECT_TRUE(r.has("rst 1 PROTOCOL_ERROR")) << r.out;
  EXPECT_FALSE(r.has("status 1")) << r.out;
}

}  // namespace
}  // namespace dusty::http::h2_test
