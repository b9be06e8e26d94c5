#include <dusty/net/error.hpp>

#include <dusty/core/error.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace {

namespace net = dusty::net;

TEST(net_error, codes_compare_and_name_their_category) {
  std::error_code ec = net::errc::input_limit;
  EXPECT_EQ(ec, net::errc::input_limit);
  EXPECT_NE(ec, net::errc::invalid_port);
  EXPECT_STREQ(ec.category().name(), "dusty.net");
  EXPECT_EQ(ec.message(), "input exceeds the buffer limit");
  // Core and OS codes stay distinct from net's, with the same numbers.
  EXPECT_NE(ec, std::error_code(static_cast<int>(net::errc::input_limit), std::generic_category()));
  EXPECT_NE(std::error_code(net::errc::invalid_address), std::error_code(dusty::errc::cancelled));
}

TEST(net_error, every_code_has_its_own_message) {
  for (int v = 1; v <= static_cast<int>(net::errc::input_limit); ++v) {
    auto m = net::error_category().message(v);
    EXPECT_EQ(m.find("unknown"), std::string::npos) << v;
  }
  EXPECT_EQ(net::error_category().message(999), "unknown dusty.net error 999");
}

TEST(net_error, error_adds_context_and_keeps_the_code) {
  std::error_code refused(ECONNREFUSED, std::generic_category());
  net::error e(refused, "connect to 127.0.0.1:9");
  EXPECT_STREQ(e.what(), "connect to 127.0.0.1:9: Connection refused");
  EXPECT_EQ(e.code(), refused);
  EXPECT_EQ(e.code(), std::errc::connection_refused);
  net::error timeout(dusty::errc::timed_out, "read from 10.0.0.1:80");
  EXPECT_STREQ(timeout.what(), "read from 10.0.0.1:80: timed out");
  // It is a std::system_error, so generic handlers catch it.
  try {
    throw net::error(net::errc::missing_port, "--connect '127.0.0.1'");
  } catch (const std::system_error& caught) {
    EXPECT_STREQ(caught.what(), "--connect '127.0.0.1': no :port after the address");
  }
}

}  // namespace
