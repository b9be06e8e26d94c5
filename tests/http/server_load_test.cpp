// Load smoke test: wrk against apps/hello (a child process, every shard) for a few
// seconds with 200 connections, plain and pipelined 16 deep. Passing means zero socket
// errors and zero non-2xx answers, not any particular speed.
#include "http/server_support.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <csignal>
#include <optional>
#include <filesystem>
#include <string>

namespace {

using namespace dusty::http::server_test;
namespace net = dusty::net;

std::string hello_binary() { return (binary_dir() / "apps/hello/dusty-hello").string(); }

struct wrk_summary {
  long long requests = -1;
  long long socket_errors = 0;  ///< connect + read + write + timeout
  long long non_2xx = 0;        ///< wrk counts statuses above 399
};

// The number after `label` in wrk's report, or nothing.
std::optional<long long> number_after(const std::string& out, std::string_view label) {
  auto at = out.find(label);
  if (at == std::string::npos) return std::nullopt;
  const char* p = out.data() + at + label.size();
  long long n = 0;
  auto [end, ec] = std::from_chars(p, out.data() + out.size(), n);
  if (ec != std::errc() || end == p) return std::nullopt;
  return n;
}

wrk_summary parse_wrk(const std::string& out) {
  wrk_summary s;
  // "  123456 requests in 3.00s, 15.2MB read"
  auto in = out.find(" requests in ");
  if (in != std::string::npos) {
    auto start = out.find_last_not_of("0123456789", in - 1);
    s.requests = std::stoll(out.substr(start + 1, in - start - 1));
  }
  // "  Socket errors: connect 0, read 12, write 0, timeout 3" (only when there are some)
  if (auto at = out.find("Socket errors:"); at != std::string::npos) {
    std::string line = out.substr(at, out.find('\n', at) - at);
    for (auto label : {"connect ", "read ", "write ", "timeout "}) s.socket_errors += number_after(line, label).value_or(1);
  }
  // "  Non-2xx or 3xx responses: 17" (only when there are some)
  if (auto n = number_after(out, "Non-2xx or 3xx responses: ")) s.non_2xx = *n;
  return s;
}

class load_smoke : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(hello_binary())) << hello_binary() << " is missing: build dusty-hello";
    ASSERT_TRUE(std::filesystem::exists("/usr/bin/wrk")) << "wrk is not installed";
    app_.emplace(std::vector<std::string>{hello_binary(), "--port", "0", "--address", "127.0.0.1"});
    auto line = net::testing::read_line(app_->stdout_fd(), clock_type::now() + 30s);
    ASSERT_TRUE(line) << "dusty-hello printed no banner";
    const std::string prefix = "dusty-hello serving http://127.0.0.1:";
    ASSERT_EQ(line->rfind(prefix, 0), 0u) << *line;
    port_ = static_cast<std::uint16_t>(std::stoul(line->substr(prefix.size())));
  }
  void TearDown() override {
    if (!app_) return;
    app_->signal(SIGTERM);
    EXPECT_EQ(app_->wait(20s), 0) << "dusty-hello did not exit cleanly after the load";
  }

  wrk_summary run_wrk(std::vector<std::string> extra) {
    std::vector<std::string> args = {"/usr/bin/wrk", "-t2", "-c200", "-d3s", "--timeout", "5s"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("http://127.0.0.1:" + std::to_string(port_) + "/plaintext");
    auto r = run_program(args, 60s);
    EXPECT_EQ(r.status, 0) << r.err;
    auto s = parse_wrk(r.out);
    EXPECT_GT(s.requests, 1000) << r.out;
    EXPECT_EQ(s.socket_errors, 0) << r.out;
    EXPECT_EQ(s.non_2xx, 0) << r.out;
    // Afterwards the server still answers a plain request correctly.
    auto after = get_once(port_, "/plaintext");
    EXPECT_TRUE(after && after->status == 200 && after->body == "Hello, World!");
    return s;
  }

  std::optional<net::testing::child> app_;
  std::uint16_t port_ = 0;
  temp_dir dir_;
};

TEST_F(load_smoke, wrk_200_connections) { run_wrk({}); }

TEST_F(load_smoke, wrk_200_connections_pipelined_16_deep) {
  // wrk sends whatever request() returns in one write and counts every response in it.
  auto script = dir_.write("pipeline.lua", R"LUA(
local batch
init = function(args)
  batch = string.rep(wrk.format("GET", "/plaintext"), 16)
end
request = function()
  return batch
end
)LUA");
  run_wrk({"-s", script});
}

}  // namespace
