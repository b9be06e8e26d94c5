// The HTTP/2 server (http/h2/) end to end, against clients written by others: curl
// (--http2-prior-knowledge, and --http2 over TLS), nghttp and h2load (Debian's
// nghttp2-client), and raw frames from Python's h2 package (h2_attack.py) for what
// those clients do not do. The same route suite answers over HTTP/1.1 and HTTP/2 with the
// same status, fields and body.
#include "http/h2/h2_support.hpp"

#include "http/peer_support.hpp"
#include "net/child_process.hpp"

#include <dusty/http/server.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

namespace dusty::http::h2_test {
namespace {

using ::testing::HasSubstr;

constexpr const char* nghttp = "/usr/bin/nghttp";
constexpr const char* h2load = "/usr/bin/h2load";

// Fields whose presence differs by protocol by design: HTTP/2 has no Connection or
// Transfer-Encoding (RFC 9113 section 8.2.2), and Date moves.
bool protocol_field(const std::string& name) {
  return name == "date" || name == "connection" || name == "transfer-encoding" || name == "keep-alive";
}

std::multimap<std::string, std::string> comparable(const std::multimap<std::string, std::string>& f) {
  std::multimap<std::string, std::string> out;
  for (const auto& [k, v] : f)
    if (!protocol_field(k)) out.emplace(k, v);
  return out;
}

TEST(server_h2, the_same_answers_over_http1_and_h2c) {
  auto cfg = local_config();
  cfg.limits.max_body_size = 8 << 20;
  live_server<> srv(suite_routes, cfg);
  temp_dir dir;
  std::string upload = dir.write("upload.bin", pattern(3 << 20, 4));
  std::string too_big = dir.write("too-big.bin", pattern(9 << 20, 4));
  struct req {
    std::string path;
    std::vector<std::string> args;
  };
  std::vector<req> reqs = {
      {"/", {}},
      {"/json", {}},
      {"/user/42?q=a%20b", {}},
      {"/headers", {"-H", "X-Test: yes", "-H", "Cookie: x=1", "-H", "Cookie: y=2"}},
      {"/echo", {"--data-binary", "hello body"}},
      {"/echo", {"-H", "Content-Type: application/octet-stream", "--data-binary", "@" + upload}},
      {"/upload", {"--data-binary", "@" + upload}},
      {"/upload", {"--data-binary", "@" + too_big}},
      {"/chunks", {}},
      {"/writer", {}},
      {"/small-writer", {}},
      {"/events", {}},
      {"/file", {}},
      {"/status/418", {}},
      {"/status/404", {}},
      {"/fail", {}},
      {"/empty", {}},
      {"/nowhere", {}},
      {"/json", {"-X", "DELETE"}},
      {"/", {"-I"}},
  };
  for (const auto& r : reqs) {
    auto a1 = r.args;
    a1.insert(a1.begin(), "--http1.1");
    auto a2 = r.args;
    a2.insert(a2.begin(), "--http2-prior-knowledge");
    auto h1 = run_curl(a1, srv.url(r.path));
    auto h2 = run_curl(a2, srv.url(r.path));
    SCOPED_TRACE(r.path);
    EXPECT_EQ(h1.exit, 0) << h1.err;
    EXPECT_EQ(h2.exit, 0) << h2.err;
    EXPECT_EQ(h1.version, "1.1");
    EXPECT_EQ(h2.version, "2");
    EXPECT_EQ(h1.status, h2.status);
    if (r.args.empty() || r.args[0] != "-I") {  // -I writes the head as the body
      EXPECT_EQ(h1.body, h2.body);
    }
    auto f1 = comparable(h1.fields), f2 = comparable(h2.fields);
    // A streamed body has no length in HTTP/1.1 (chunked) nor in HTTP/2 (END_STREAM).
    EXPECT_EQ(f1, f2);
  }
  // Spot checks that the comparison compares something.
  auto h2 = run_curl({"--http2-prior-knowledge", "-H", "Cookie: x=1", "-H", "Cookie: y=2"}, srv.url("/headers"));
  EXPECT_EQ(h2.body, "127.0.0.1:" + std::to_string(srv.port()) + " 1 2");
  EXPECT_EQ(h2.fields.count("set-cookie"), 2u);
  auto up = run_curl({"--http2-prior-knowledge", "--data-binary", "@" + upload}, srv.url("/upload"));
  EXPECT_EQ(up.body, std::to_string(3 << 20) + " " + std::to_string(fnv1a(pattern(3 << 20, 4))));
  auto file = run_curl({"--http2-prior-knowledge"}, srv.url("/file"));
  EXPECT_EQ(file.body, pattern(300 * 1024, 9).substr(1000, 200 * 1024));
  ASSERT_EQ(file.fields.count("content-length"), 1u);
  EXPECT_EQ(file.fields.find("content-length")->second, std::to_string(200 * 1024));
}

TEST(server_h2, nghttp_fetches_several_streams_on_one_connection) {
  live_server<> srv(suite_routes);
  auto r = run_program({nghttp, "-n", "-s", srv.url("/"), srv.url("/json"), srv.url("/chunks"), srv.url("/writer")}, 30s);
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_THAT(r.out, HasSubstr("/json"));
  // nghttp -v: the frames, with the server's SETTINGS as configured.
  auto v = run_program({nghttp, "-v", "-n", srv.url("/")}, 30s);
  EXPECT_THAT(v.out, HasSubstr("SETTINGS_MAX_CONCURRENT_STREAMS(0x03):100"));
  EXPECT_THAT(v.out, HasSubstr(":status: 200"));
}

TEST(server_h2, h2load_many_streams_all_succeed) {
  live_server<> srv(suite_routes, local_config(), two_shards());
  auto r = run_program({h2load, "-n", "4000", "-c", "4", "-m", "32", srv.url("/json")}, 60s);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("4000 succeeded, 0 failed, 0 errored, 0 timeout")) << r.out;
}

TEST(server_h2, a_slow_stream_does_not_hold_up_the_others) {
  live_server<> srv(suite_routes);
  // Ten 1.5 s requests on one connection, all at once: in parallel they take ~1.5 s, one
  // after another 15 s.
  auto started = clock_type::now();
  auto r = run_program({h2load, "-n", "10", "-c", "1", "-m", "10", srv.url("/slow")}, 60s);
  auto took = clock_type::now() - started;
  EXPECT_THAT(r.out, HasSubstr("10 succeeded")) << r.out;
  EXPECT_LT(took, 6s);
}

TEST(server_h2, the_stream_window_opens_only_as_the_handler_reads) {
  live_server<> srv(suite_routes);
  auto r = run_attack(srv.port(), "window_follows_reads", 3);
  EXPECT_TRUE(r.has("early stream window updates 0")) << r.out;
  EXPECT_FALSE(r.has("late stream window updates 0")) << r.out;
  EXPECT_TRUE(r.has("status 1 200")) << r.out;
}

TEST(server_h2, http1_still_served_beside_h2c_and_h2c_can_be_turned_off) {
  auto cfg = local_config();
  cfg.http2.h2c = false;
  live_server<> srv(suite_routes, cfg);
  auto h1 = run_curl({"--http1.1"}, srv.url("/"));
  EXPECT_EQ(h1.status, 200u);
  // Without h2c the preface is an HTTP/1 request the parser refuses.
  auto h2 = run_curl({"--http2-prior-knowledge"}, srv.url("/"));
  EXPECT_NE(h2.exit, 0);
  // With h2c on, a request whose first bytes begin like the preface but differ is
  // HTTP/1's to answer.
  live_server<> on(suite_routes);
  auto c = on.connect();
  c.send("PRI /x HTTP/1.1\r\nHost: a\r\n\r\n");
  auto res = c.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->version, 11u);
  EXPECT_EQ(res->status, 400u);
}

// --- timeouts and shutdown ----------------------------------------------------------------

TEST(server_h2, a_handler_past_its_deadline_gets_503) {
  auto cfg = local_config();
  cfg.timeouts.handler = 200ms;
  live_server<> srv(suite_routes, cfg);
  auto r = run_curl({"--http2-prior-knowledge"}, srv.url("/slow"));
  EXPECT_EQ(r.version, "2");
  EXPECT_EQ(r.status, 503u);
  EXPECT_THAT(r.body, HasSubstr("timed out"));
}

TEST(server_h2, a_stream_the_client_resets_cancels_its_handler) {
  live_server<> srv(suite_routes);
  handler_calls = 0;
  slow_finished = 0;
  auto r = run_attack(srv.port(), "reset_running", 2);
  EXPECT_FALSE(r.has("status 1")) << r.out;
  EXPECT_TRUE(r.has("bystander 200")) << r.out;
  std::this_thread::sleep_for(500ms);  // past the handler's 1.5 s, had it not been cancelled
  EXPECT_EQ(handler_calls.load(), 2);  // /slow, and the bystander's GET /
  EXPECT_EQ(slow_finished.load(), 0);
}

TEST(server_h2, graceful_stop_sends_goaway_and_finishes_the_stream_in_flight) {
  live_server<> srv(suite_routes);
  auto attack = std::async(std::launch::async, [&] { return run_attack(srv.port(), "graceful", 6); });
  std::this_thread::sleep_for(400ms);
  auto stopped = srv.stop_async();
  auto r = attack.get();
  finish(stopped);
  EXPECT_TRUE(r.has("goaway NO_ERROR last=1")) << r.out;
  EXPECT_TRUE(r.has("status 1 200")) << r.out;
  EXPECT_TRUE(r.has("closed")) << r.out;
  EXPECT_LT(r.out.find("goaway NO_ERROR"), r.out.find("status 1 200")) << r.out;
}

TEST(server_h2, a_client_that_never_acknowledges_settings_gets_settings_timeout) {
  auto cfg = local_config();
  cfg.http2.settings_timeout = 500ms;
  live_server<> srv(suite_routes, cfg);
  auto r = run_attack(srv.port(), "settings_timeout", 4);
  EXPECT_TRUE(r.has("goaway SETTINGS_TIMEOUT")) << r.out;
  EXPECT_TRUE(r.has("bystander 200")) << r.out;
}

TEST(server_h2, an_idle_connection_is_closed_with_goaway) {
  auto cfg = local_config();
  cfg.http2.idle_timeout = 400ms;
  live_server<> srv(suite_routes, cfg);
  auto r = run_attack(srv.port(), "idle", 4);
  EXPECT_TRUE(r.has("goaway NO_ERROR last=0")) << r.out;
  EXPECT_TRUE(r.has("closed")) << r.out;
  EXPECT_LT(r.took, 4s);
}

TEST(server_h2, a_peer_that_never_opens_its_window_loses_the_stream) {
  auto cfg = local_config();
  cfg.timeouts.write = 500ms;
  live_server<> srv(suite_routes, cfg);
  auto r = run_attack(srv.port(), "zero_window", 3);
  EXPECT_TRUE(r.has("status 1 200")) << r.out;  // the head fits; no DATA can follow
  EXPECT_TRUE(r.has("rst 1 CANCEL")) << r.out;
  EXPECT_TRUE(r.has("bystander 200")) << r.out;
}

TEST(server_h2, a_small_answer_the_peer_never_takes_is_reset_too) {
  auto cfg = local_config();
  cfg.timeouts.write = 500ms;
  live_server<> srv(suite_routes, cfg);
  auto r = run_attack(srv.port(), "zero_window_small", 3);
  EXPECT_TRUE(r.has("status 1 200")) << r.out;
  EXPECT_TRUE(r.has("rst 1 CANCEL")) << r.out;
}

TEST(server_h2, streams_beyond_the_limit_end_the_connection) {
  auto cfg = local_config();
  cfg.http2.max_concurrent_streams = 10;
  live_server<> srv(suite_routes, cfg);
  // 300 streams at once once SETTINGS are acknowledged: RFC 9113 section 5.1.2 allows
  // PROTOCOL_ERROR or REFUSED_STREAM; nghttp2 ends the connection, naming the last of
  // the ten streams it took (19).
  auto r = run_attack(srv.port(), "too_many_streams", 4);
  EXPECT_TRUE(r.has("goaway PROTOCOL_ERROR last=19")) << r.out;
  EXPECT_TRUE(r.has("bystander 200")) << r.out;
}

// --- TLS (ALPN) and the apps -------------------------------------------------------------

const std::string& cert_dir() {
  static temp_dir dir;
  static const std::string path = [] {
    auto r = run_program({python_path(), source_dir() + "/tests/net/tls/make_certs.py", dir.path("")}, 60s);
    EXPECT_EQ(r.status, 0) << "make_certs.py: " << r.err;
    return dir.path("");
  }();
  return path;
}
std::string cert(const std::string& name, const char* ext = ".pem") { return cert_dir() + "/" + name + ext; }

TEST(server_h2, alpn_chooses_h2_on_a_tls_port_and_http1_still_works) {
  auto cfg = local_config();
  cfg.tls.cert_file = cert("server");
  cfg.tls.key_file = cert("server", ".key");
  cfg.limits.max_body_size = 8 << 20;
  live_server<> srv(suite_routes, cfg);
  std::string base = "https://localhost:" + std::to_string(srv.port());
  auto h2 = run_curl({"--http2", "--cacert", cert("ca")}, base + "/json");
  EXPECT_EQ(h2.exit, 0) << h2.err;
  EXPECT_EQ(h2.version, "2");
  EXPECT_EQ(h2.body, R"({"message":"Hello, World!"})");
  auto h1 = run_curl({"--http1.1", "--cacert", cert("ca")}, base + "/json");
  EXPECT_EQ(h1.version, "1.1");
  EXPECT_EQ(h1.body, h2.body);
  temp_dir dir;
  std::string upload = dir.write("upload.bin", pattern(2 << 20, 6));
  auto up = run_curl({"--http2", "--cacert", cert("ca"), "--data-binary", "@" + upload}, base + "/upload");
  EXPECT_EQ(up.body, std::to_string(2 << 20) + " " + std::to_string(fnv1a(pattern(2 << 20, 6))));
  auto load = run_program({h2load, "-n", "500", "-c", "2", "-m", "10", base + "/"}, 60s);
  EXPECT_THAT(load.out, HasSubstr("500 succeeded")) << load.out << load.err;
  EXPECT_THAT(load.out, HasSubstr("Application protocol: h2")) << load.out;
}

TEST(server_h2, without_http2_the_tls_port_offers_only_http1) {
  auto cfg = local_config();
  cfg.tls.cert_file = cert("server");
  cfg.tls.key_file = cert("server", ".key");
  cfg.http2.enabled = false;
  live_server<> srv(suite_routes, cfg);
  auto r = run_curl({"--http2", "--cacert", cert("ca")}, "https://localhost:" + std::to_string(srv.port()) + "/");
  EXPECT_EQ(r.version, "1.1");
  auto h2c = run_curl({"--http2-prior-knowledge"}, "http://127.0.0.1:" + std::to_string(srv.port()) + "/");
  EXPECT_NE(h2c.exit, 0);
}

// Starts an app on port 0 and returns the port it prints.
std::uint16_t start_app(net::testing::child& app) {
  std::string out;
  auto until = clock_type::now() + 20s;
  while (clock_type::now() < until) {
    pollfd p{app.stdout_fd(), POLLIN, 0};
    if (::poll(&p, 1, 200) != 1) continue;
    char buf[512];
    ssize_t got = ::read(app.stdout_fd(), buf, sizeof buf);
    if (got <= 0) break;
    out.append(buf, static_cast<std::size_t>(got));
    auto at = out.find("127.0.0.1:");
    if (at != std::string::npos && out.find('/', at) != std::string::npos)
      return static_cast<std::uint16_t>(std::stoul(out.substr(at + 10)));
  }
  ADD_FAILURE() << "the app did not say its port: " << out;
  return 0;
}

void check_app(const std::string& path, const std::string& url_path) {
  // The suite builds every app before it runs (./dev.sh test): a missing one is a failure.
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " not built";
  {
    net::testing::child app(std::vector<std::string>{path, "--port", "0", "--address", "127.0.0.1", "--shards", "1"});
    auto port = start_app(app);
    auto r = run_curl({"--http2-prior-knowledge"}, "http://127.0.0.1:" + std::to_string(port) + url_path);
    EXPECT_EQ(r.version, "2") << r.err;
    EXPECT_EQ(r.status, 200u);
    app.signal(SIGTERM);
    EXPECT_EQ(app.wait(10s), 0);
  }
  net::testing::child app(std::vector<std::string>{path, "--port", "0", "--address", "127.0.0.1", "--shards", "1",
                                                   "--tls-cert", cert("server"), "--tls-key", cert("server", ".key")});
  auto port = start_app(app);
  auto r = run_curl({"--http2", "--cacert", cert("ca")}, "https://localhost:" + std::to_string(port) + url_path);
  EXPECT_EQ(r.version, "2") << r.err;
  EXPECT_EQ(r.status, 200u);
  app.signal(SIGTERM);
  EXPECT_EQ(app.wait(10s), 0);
}

TEST(server_h2, dusty_hello_answers_h2c_and_h2) { check_app((binary_dir() / "apps/hello/dusty-hello").string(), "/json"); }

TEST(server_h2, dusty_httpbin_answers_h2c_and_h2) {
  check_app((binary_dir() / "apps/httpbin/dusty-httpbin").string(), "/get?a=1");
}

}  // namespace
}  // namespace dusty::http::h2_test
