// apps/echo (dusty-echo), driven as a user would: a child process, real signals, exit codes.
#include "net/child_process.hpp"
#include "net/test_util.hpp"

#include <dusty/core/runtime.hpp>
#include <dusty/net/connection.hpp>
#include <dusty/net/listener.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace dusty::net::testing;
namespace net = dusty::net;
using clock_type = std::chrono::steady_clock;

std::string echo_binary() {
  if (const char* dir = std::getenv("DUSTY_BINARY_DIR")) return std::string(dir) + "/apps/echo/dusty-echo";
  // Run by hand: this test binary lives in <build>/tests/.
  auto build = std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path();
  return (build / "apps/echo/dusty-echo").string();
}

// Parses "dusty-echo listening on <address> (<n> shards, <backend>)".
struct banner {
  net::socket_address address;
  std::string rest;
};
std::optional<banner> parse_banner(const std::string& line) {
  const std::string prefix = "dusty-echo listening on ";
  auto paren = line.find(" (");
  if (line.rfind(prefix, 0) != 0 || paren == std::string::npos) return std::nullopt;
  auto a = net::socket_address::parse(line.substr(prefix.size(), paren - prefix.size()));
  if (!a) return std::nullopt;
  return banner{*a, line.substr(paren + 2)};
}

void echo_through(const net::socket_address& server, int connections) {
  dusty::runtime rt(config());
  rt.run([&] {
    for (int i = 0; i < connections; ++i) {
      auto c = net::connect(server, soon());
      ASSERT_TRUE(c) << c.error().message();
      std::string message = "round trip " + std::to_string(i) + std::string(5000, '!');
      ASSERT_TRUE(c->write(bytes(message), soon()));
      EXPECT_EQ(read_string(*c, message.size()), message);
    }
  });
}

class echo_app : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(echo_binary())) FAIL() << echo_binary() << " is missing: build dusty-echo";
  }
};

void serves_then_stops_on(int sig) {
  std::string shards = usable_cpus() >= 2 ? "2" : "1";
  child app({echo_binary(), "--port", "0", "--address", "127.0.0.1", "--shards", shards});
  ASSERT_TRUE(app.started());
  auto line = read_line(app.stdout_fd(), clock_type::now() + 30s);
  ASSERT_TRUE(line) << "no banner; stderr: " << read_all(app.stderr_fd(), clock_type::now() + 1s);
  auto b = parse_banner(*line);
  ASSERT_TRUE(b) << "unexpected banner: " << *line;
  EXPECT_NE(b->address.port(), 0);
  EXPECT_EQ(b->rest.rfind(shards + " shards, ", 0), 0u) << *line;
  if (const char* forced = std::getenv("DUSTY_BACKEND")) {
    EXPECT_EQ(b->rest, shards + " shards, " + forced + ")");
  }
  echo_through(b->address, 4);
  app.signal(sig);
  auto status = app.wait(30s);
  ASSERT_TRUE(status) << "dusty-echo did not exit after signal " << sig;
  EXPECT_EQ(*status, 0) << read_all(app.stderr_fd(), clock_type::now() + 1s);
}

TEST_F(echo_app, serves_and_exits_0_on_sigterm) { serves_then_stops_on(SIGTERM); }

TEST_F(echo_app, serves_and_exits_0_on_sigint) { serves_then_stops_on(SIGINT); }

TEST_F(echo_app, bad_flags_exit_2_with_one_line) {
  const std::vector<std::vector<std::string>> cases = {
      {"--shards", "0"},     {"--shards", "100000"}, {"--backend", "kqueue"}, {"--port", "70000"},
      {"--port", "http"},    {"--address", "localhost"}, {"--bogus"},          {"--port"},
  };
  for (const auto& flags : cases) {
    std::vector<std::string> args{echo_binary()};
    args.insert(args.end(), flags.begin(), flags.end());
    child app(args);
    auto status = app.wait(30s);
    ASSERT_TRUE(status) << "no exit for " << flags[0];
    auto err = read_all(app.stderr_fd(), clock_type::now() + 5s);
    EXPECT_EQ(*status, 2) << flags[0] << ": " << err;
    EXPECT_EQ(err.rfind("dusty-echo: ", 0), 0u) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
}

TEST_F(echo_app, port_in_use_exits_2) {
  // Held without SO_REUSEPORT, as an unrelated program would hold it.
  auto taken = net::listen(net::socket_address::ipv4_loopback(), {.reuse_port = false});
  ASSERT_TRUE(taken);
  auto port = std::to_string(taken->local_address().port());
  child app({echo_binary(), "--port", port, "--address", "127.0.0.1", "--shards", "1"});
  auto status = app.wait(30s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 2);
  EXPECT_EQ(read_all(app.stderr_fd(), clock_type::now() + 5s),
            "dusty-echo: listen on 127.0.0.1:" + port + ": Address already in use\n");
}

}  // namespace
