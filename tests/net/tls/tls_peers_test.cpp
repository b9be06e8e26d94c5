// tls::stream against peers written by others: OpenSSL's own s_server and s_client.
#include <dusty/net/tls/stream.hpp>

#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/net/error.hpp>

#include "net/tls/tls_test_util.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace dusty::net::testing;
namespace net = dusty::net;
using dusty::errc;
using steady = std::chrono::steady_clock;

constexpr const char* openssl = "/usr/bin/openssl";

// Waits for a child without blocking the shard: other fibers (the server under test)
// keep running between polls.
std::optional<int> wait_in_fiber(child& c, std::chrono::seconds limit) {
  auto until = steady::now() + limit;
  while (steady::now() < until) {
    if (auto status = c.wait(0ms)) return status;
    dusty::sleep_for(10ms);
  }
  return std::nullopt;
}

struct fetched {
  std::string page;
  std::string alpn;
  bool resumed = false;
};

// One HTTP/1.0 request through a dusty TLS client to `s_server -www`, which answers
// with a page describing the session ("New, TLSv1.3, ..." or "Reused, TLSv1.3, ...").
fetched fetch_status_page(const std::shared_ptr<const tls::context>& ctx, const net::socket_address& to,
                          const std::string& host, tls::session_cache* cache) {
  auto c = net::connect(to, soon());
  EXPECT_TRUE(c) << c.error().message();
  tls::stream s(ctx, std::move(*c), {.host = host, .sessions = cache});
  auto h = s.handshake();
  EXPECT_TRUE(h) << host << ": " << s.error_detail();
  if (!h) return {};
  EXPECT_TRUE(s.write(bytes("GET / HTTP/1.0\r\n\r\n"), soon()));
  auto [page, end] = read_to_end(s);
  EXPECT_EQ(end, errc::eof) << end.message() << ": " << s.error_detail();
  return {page, std::string(s.alpn()), s.resumed()};
}

TEST(tls_peers, dusty_client_against_openssl_s_server) {
  child server({openssl, "s_server", "-accept", "127.0.0.1:0", "-cert", cert("server"), "-key",
                cert("server", ".key"), "-servername", "b.test", "-cert2", cert("b"), "-key2", cert("b", ".key"),
                "-alpn", "http/1.1", "-www"});
  ASSERT_TRUE(server.started());
  auto line = read_line(server.stdout_fd(), steady::now() + 10s);
  while (line && !line->starts_with("ACCEPT ")) line = read_line(server.stdout_fd(), steady::now() + 10s);
  ASSERT_TRUE(line) << "s_server did not say where it listens";
  auto where = net::socket_address::parse(line->substr(7));
  ASSERT_TRUE(where) << *line;

  dusty::runtime rt(config());
  rt.run([&] {
    auto ccfg = client_config_trusting();
    ccfg.alpn = {"h2", "http/1.1"};
    auto ctx = tls::context::client(ccfg);
    tls::session_cache cache;
    auto first = fetch_status_page(ctx, *where, "localhost", &cache);
    EXPECT_EQ(first.alpn, "http/1.1");
    EXPECT_FALSE(first.resumed);
    EXPECT_NE(first.page.find("New, TLSv1.3"), std::string::npos) << first.page;
    EXPECT_EQ(cache.size(), 1u);
    auto second = fetch_status_page(ctx, *where, "localhost", &cache);
    EXPECT_TRUE(second.resumed);
    EXPECT_NE(second.page.find("Reused, TLSv1.3"), std::string::npos) << second.page;
    // SNI: only the second certificate verifies for b.test.
    auto sni = fetch_status_page(ctx, *where, "b.test", nullptr);
    EXPECT_NE(sni.page.find("New, TLSv1.3"), std::string::npos) << sni.page;
  });
}

struct served {
  std::string server_name;
  std::string alpn;
  bool resumed = false;
};

TEST(tls_peers, openssl_s_client_against_dusty) {
  dusty::runtime rt(config());
  rt.run([] {
    auto scfg = server_config_for();
    scfg.alpn = {"h2", "http/1.1"};
    scfg.sni.push_back({"b.test", cert("b"), cert("b", ".key")});
    auto ctx = tls::context::server(scfg);
    auto l = net::listen(net::socket_address::ipv4_loopback());
    ASSERT_TRUE(l);
    std::vector<served> seen;
    auto acceptor = dusty::spawn([&] {
      for (int i = 0; i < 2; ++i) {
        auto c = l->accept(soon());
        ASSERT_TRUE(c);
        tls::stream s(ctx, std::move(*c));
        auto h = s.handshake();
        ASSERT_TRUE(h) << s.error_detail();
        seen.push_back({std::string(s.server_name()), std::string(s.alpn()), s.resumed()});
        char buf[1024];
        for (;;) {  // echo until s_client goes (it may or may not send close_notify)
          auto n = s.read_some(std::as_writable_bytes(std::span(buf)), soon());
          if (!n) break;
          if (!s.write(std::as_bytes(std::span(buf, *n)), soon())) break;
        }
      }
    });
    temp_dir dir;
    std::string session = dir.path("session.pem");
    std::string port = std::to_string(l->local_address().port());
    auto run_client = [&](const char* session_flag) {
      std::string cmd = "(printf ping; sleep 0.5) | " + std::string(openssl) + " s_client -connect 127.0.0.1:" + port +
                        " -servername b.test -verify_hostname b.test -alpn http/1.1 -CAfile " + cert("ca") +
                        " -verify_return_error " + session_flag + " " + session;
      child c({"/bin/sh", "-c", cmd});
      auto status = wait_in_fiber(c, 20s);
      EXPECT_EQ(status, 0);
      return read_all(c.stdout_fd(), steady::now() + 5s);
    };
    std::string out1 = run_client("-sess_out");
    EXPECT_NE(out1.find("ALPN protocol: http/1.1"), std::string::npos) << out1;
    EXPECT_NE(out1.find("Verify return code: 0 (ok)"), std::string::npos) << out1;
    EXPECT_NE(out1.find("New, TLSv1.3"), std::string::npos) << out1;
    EXPECT_NE(out1.find("ping"), std::string::npos) << out1;
    std::string out2 = run_client("-sess_in");
    EXPECT_NE(out2.find("Reused, TLSv1.3"), std::string::npos) << out2;
    EXPECT_NE(out2.find("ping"), std::string::npos) << out2;
    acceptor.join();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].server_name, "b.test");
    EXPECT_EQ(seen[0].alpn, "http/1.1");
    EXPECT_FALSE(seen[0].resumed);
    EXPECT_TRUE(seen[1].resumed);
  });
}

}  // namespace
