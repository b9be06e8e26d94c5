#include <dusty/http/server_stats.hpp>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using dusty::http::latency_histogram;
using dusty::http::server_stats;

TEST(latency_histogram, a_bound_belongs_to_its_own_bucket) {
  latency_histogram h;
  h.observe(0ns);
  h.observe(100us);
  h.observe(101us);
  h.observe(10s);
  h.observe(11s);
  EXPECT_EQ(h.counts[0], 2u);
  EXPECT_EQ(h.counts[1], 1u);
  EXPECT_EQ(h.counts[latency_histogram::bounds.size() - 1], 1u);
  EXPECT_EQ(h.counts.back(), 1u);  // +Inf
  EXPECT_EQ(h.count, 5u);
  EXPECT_EQ(h.sum, 0ns + 100us + 101us + 10s + 11s);
}

TEST(latency_histogram, bounds_rise) {
  for (std::size_t i = 1; i < latency_histogram::bounds.size(); ++i)
    EXPECT_LT(latency_histogram::bounds[i - 1], latency_histogram::bounds[i]);
}

TEST(server_stats, requests_count_by_status_class) {
  server_stats s;
  for (unsigned status : {101u, 200u, 204u, 301u, 404u, 503u, 599u, 99u, 600u}) s.count_request(status, 1ms);
  EXPECT_EQ(s.requests[0], 1u);
  EXPECT_EQ(s.requests[1], 2u);
  EXPECT_EQ(s.requests[2], 1u);
  EXPECT_EQ(s.requests[3], 1u);
  EXPECT_EQ(s.requests[4], 4u);  // 503, 599, and the out-of-range 99 and 600
  EXPECT_EQ(s.latency.count, 9u);
}

}  // namespace
