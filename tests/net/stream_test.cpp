#include <dusty/net/stream.hpp>

#include <dusty/core/error.hpp>

#include "net/script_stream.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace {

using dusty::errc;
using dusty::net::testing::script_stream;

std::span<std::byte> writable(std::string& s) { return std::as_writable_bytes(std::span(s)); }

TEST(stream, read_loops_over_partial_reads) {
  script_stream s({"ab", "c", "defg"});
  std::string out(6, '\0');
  ASSERT_TRUE(s.read(writable(out)));
  EXPECT_EQ(out, "abcdef");
  EXPECT_EQ(s.read_sizes, (std::vector<std::size_t>{6, 4, 3}));
  std::string rest(1, '\0');
  ASSERT_TRUE(s.read(writable(rest)));
  EXPECT_EQ(rest, "g");
}

TEST(stream, read_reports_eof_when_the_peer_stops_early) {
  script_stream s({"abc"});
  std::string out(5, '\0');
  auto r = s.read(writable(out));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::eof);
  EXPECT_EQ(out.substr(0, 3), "abc");
}

TEST(stream, default_read_lazy_takes_the_buffer_and_reads_at_most_max) {
  script_stream s({"0123456789"});
  std::array<std::byte, 64> memory{};
  int asked = 0;
  struct ctx_t {
    std::array<std::byte, 64>* memory;
    int* asked;
  } ctx{&memory, &asked};
  dusty::buffer_source source{[](void* p) -> std::span<std::byte> {
                                auto* c = static_cast<ctx_t*>(p);
                                ++*c->asked;
                                return *c->memory;
                              },
                              &ctx};
  auto n = s.read_lazy(4, source);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 4u);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(memory.data()), 4), "0123");
  EXPECT_EQ(s.lazy_reads, 1);
}

TEST(stream, shutdown_and_close_reach_the_implementation) {
  script_stream s;
  ASSERT_TRUE(s.shutdown_write());
  EXPECT_TRUE(s.write_shut);
  s.close();
  EXPECT_TRUE(s.closed);
}

}  // namespace
