// Load smoke test: wrk against apps/hello (a child process, every shard) for a few
// seconds with 200 connections, plain and pipelined 16 deep. Passing means zero socket
// errors and zero non-2xx answers, not any particular speed.
#include "http/server_support.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <regex>
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

wrk_summary parse_wrk(const std::string& out) {
  wrk_summary s;
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"((\d+) requests in )"))) s.requests = std::stoll(m[1]);
  if (std::regex_search(out, m, std::regex(R"(Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+))")))
    s.socket_errors = std::stoll(m[1]) + std::stoll(m[2]) + std::stoll(m[3]) + std::stoll(m[4]);
  if (std::regex_search(out, m, std::regex(R"(Non-2xx or 3xx responses: (\d+))"))) s.non_2xx = std::stoll(m[1]);
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
