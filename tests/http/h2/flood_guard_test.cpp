#include <dusty/http/h2/flood_guard.hpp>

#include <gtest/gtest.h>

namespace dusty::http::h2 {
namespace {

using namespace std::chrono_literals;

TEST(flood_guard, a_burst_then_a_tenth_of_it_per_second) {
  flood_guard g(100);
  auto t = flood_guard::clock::now();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(g.control_frame(t)) << i;
  EXPECT_FALSE(g.control_frame(t));
  // A second later ten more are allowed, and no more.
  t += 1s;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(g.control_frame(t)) << i;
  EXPECT_FALSE(g.control_frame(t));
  // A long quiet time refills the burst, never beyond it.
  t += 1h;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(g.control_frame(t)) << i;
  EXPECT_FALSE(g.control_frame(t));
}

TEST(flood_guard, window_updates_follow_the_data_sent) {
  flood_guard g(1000);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(g.window_update()) << i;  // the slack
  EXPECT_FALSE(g.window_update());
  g.data_frame_sent();
  EXPECT_TRUE(g.window_update());   // one for the stream,
  EXPECT_TRUE(g.window_update());   // one for the connection
  EXPECT_FALSE(g.window_update());
}

}  // namespace
}  // namespace dusty::http::h2
