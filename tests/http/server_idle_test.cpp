// An idle keep-alive connection gives back what serving a request left it holding (the
// handler's stack pages among it, observable from inside the process) and still serves the
// next request normally.
#include <dusty/http/server.hpp>

#include "http/server_support.hpp"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace {

using namespace dusty::http::server_test;
namespace http = dusty::http;

bool resident(std::uintptr_t p) {
  auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  unsigned char v = 0;
  if (::mincore(reinterpret_cast<void*>(p & ~(page - 1)), 1, &v) != 0) throw std::runtime_error("mincore failed");
  return (v & 1) != 0;
}

// Uses `depth` bytes of the calling fiber's stack; returns the deepest address touched.
[[gnu::noinline]] std::uintptr_t go_deep(std::size_t depth) {
  volatile char buf[2048];
  for (std::size_t i = 0; i < sizeof buf; i += 64) buf[i] = static_cast<char>(i);
  std::uintptr_t deepest = depth > sizeof buf ? go_deep(depth - sizeof buf) : reinterpret_cast<std::uintptr_t>(&buf[0]);
  for (std::size_t i = 0; i < sizeof buf; i += 64)
    if (buf[i] != static_cast<char>(i)) throw std::runtime_error("stack contents changed");
  return deepest;
}

TEST(server_idle, idle_connection_releases_its_stack_pages_and_serves_on) {
  std::atomic<std::uintptr_t> deepest{0};
  live_server<> srv([&](http::server<>& s) {
    s.get("/deep", [&](http::request&, http::response& res) {
      deepest = go_deep(48 * 1024);
      res.body = "deep";
    });
  });
  auto c = srv.connect();
  c.send(get_request("/deep"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "deep");
  ASSERT_NE(deepest.load(), 0u);
  // Idle: within a few seconds the connection's deep stack pages are given back (bounded poll).
  bool released = false;
  for (int i = 0; i < 300 && !released; ++i) {
    std::this_thread::sleep_for(10ms);
    released = !resident(deepest.load());
  }
  EXPECT_TRUE(released);
  // The same connection serves on, deep handler included, and pipelined requests too.
  for (int round = 0; round < 2; ++round) {
    c.send(get_request("/deep") + get_request("/deep"));
    for (int k = 0; k < 2; ++k) {
      r = c.read_response();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200u);
      EXPECT_EQ(r->body, "deep");
    }
    std::this_thread::sleep_for(400ms);  // past the release point again
  }
}

TEST(server_idle, request_split_across_the_release_point_is_served) {
  live_server<> srv([](http::server<>& s) {
    s.get("/h", [](http::request& req, http::response& res) { res.body = std::string(req.header("x-a").value_or("none")); });
  });
  auto c = srv.connect();
  c.send(get_request("/h"));
  ASSERT_TRUE(c.read_response());
  std::this_thread::sleep_for(400ms);  // idle: released
  std::string req = "GET /h HTTP/1.1\r\nHost: x\r\nX-A: kept\r\n\r\n";
  c.send(req.substr(0, 10));
  std::this_thread::sleep_for(400ms);  // a head that started stays in progress
  c.send(req.substr(10));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "kept");
}

}  // namespace
