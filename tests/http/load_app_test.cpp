// apps/load (dusty-load): its latency histogram as a unit, and the binary driven as a user
// would, against dusty's own server on loopback.
#include "apps/load/histogram.hpp"

#include "http/peer_support.hpp"
#include "http/server_support.hpp"
#include "net/tls/tls_test_util.hpp"

#include <dusty/core/fiber.hpp>
#include <dusty/http/ws/session.hpp>
#include <dusty/net/listener.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using dusty::load::latency_histogram;
namespace http = dusty::http;
namespace st = dusty::http::server_test;

// ---- histogram ----

// The value of rank ceil(p/100 * n) (1-based) in sorted `v`, as value_at_percentile means it.
std::uint64_t reference_percentile(const std::vector<std::uint64_t>& sorted, double p) {
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

TEST(load_histogram, percentiles_match_a_sorted_reference_within_precision) {
  latency_histogram h;
  std::mt19937_64 rng(42);
  // Latency-like values from 1 ns to about 10 s, spread over many powers of two.
  std::lognormal_distribution<double> dist(12.0, 3.0);
  std::vector<std::uint64_t> values;
  for (int i = 0; i < 200'000; ++i) {
    auto v = static_cast<std::uint64_t>(std::min(dist(rng), 1e10));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  EXPECT_EQ(h.count(), values.size());
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.max(), values.back());
  for (double p : {0.1, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99}) {
    auto want = reference_percentile(values, p);
    auto got = h.value_at_percentile(p);
    EXPECT_TRUE(h.equivalent(got, want)) << "p" << p << ": got " << got << ", want " << want;
    EXPECT_GE(got, want) << "p" << p << " must not understate";
    EXPECT_LE(static_cast<double>(got - want), static_cast<double>(want) / 1024.0 + 1) << "p" << p;
  }
  EXPECT_EQ(h.value_at_percentile(0), values.front());
  EXPECT_EQ(h.value_at_percentile(100), values.back());
  double sum = 0;
  for (auto v : values) sum += static_cast<double>(v);
  EXPECT_NEAR(h.mean(), sum / static_cast<double>(values.size()), 1e-6 * h.mean());
}

TEST(load_histogram, small_values_are_exact) {
  latency_histogram h;
  for (std::uint64_t v = 0; v < 2048; ++v) h.record(v);
  for (std::uint64_t v = 1; v <= 2048; ++v) EXPECT_EQ(h.value_at_percentile(100.0 * static_cast<double>(v) / 2048), v - 1);
}

TEST(load_histogram, merge_equals_recording_everything_in_one) {
  latency_histogram a, b, all;
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::uint64_t> fast(10'000, 200'000), slow(1'000'000, 50'000'000);
  for (int i = 0; i < 50'000; ++i) {
    auto x = fast(rng), y = slow(rng);
    a.record(x);
    b.record(y, 2);
    all.record(x);
    all.record(y, 2);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double p : {1.0, 33.3, 50.0, 66.7, 90.0, 99.0, 99.9}) EXPECT_EQ(a.value_at_percentile(p), all.value_at_percentile(p)) << p;

  latency_histogram empty;
  all.merge(empty);
  EXPECT_EQ(all.count(), a.count());
  latency_histogram other_shape(30, 8);
  EXPECT_THROW(a.merge(other_shape), std::invalid_argument);
}

TEST(load_histogram, bounds) {
  latency_histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.value_at_percentile(50), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);

  auto memory = h.memory();
  h.record(0);
  EXPECT_EQ(h.value_at_percentile(100), 0u);
  // Beyond the range: counted in the top bucket, max() stays exact.
  std::uint64_t huge = h.highest_trackable() * 4;
  h.record(huge);
  h.record(std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(h.max(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_GE(h.value_at_percentile(60), h.highest_trackable() - h.highest_trackable() / 1024);
  EXPECT_EQ(h.memory(), memory) << "recording never grows the histogram";
  EXPECT_LT(memory, 512u * 1024);
  h.record(5, 0);
  EXPECT_EQ(h.count(), 3u);
  h.clear();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0u);

  EXPECT_THROW(latency_histogram(10, 11), std::invalid_argument);
  EXPECT_THROW(latency_histogram(64, 11), std::invalid_argument);
  EXPECT_THROW(latency_histogram(20, 1), std::invalid_argument);
}

// ---- the binary ----

std::string load_binary() { return (st::binary_dir() / "apps/load/dusty-load").string(); }

class load_app : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(load_binary())) FAIL() << load_binary() << " is missing: build dusty-load";
  }

  static st::program_result run(std::vector<std::string> args, st::clock_type::duration limit = 30s) {
    args.insert(args.begin(), load_binary());
    return st::run_program(args, limit);
  }

  // Runs with --json and parses the object; fails the test unless it exits 0 with JSON
  // that Python's json module accepts too.
  static nlohmann::json run_json(std::vector<std::string> args, st::clock_type::duration limit = 30s) {
    args.push_back("--json");
    auto r = run(args, limit);
    EXPECT_EQ(r.status, 0) << r.err;
    st::temp_dir dir;
    auto path = dir.path("out.json");
    {
      std::FILE* f = std::fopen(path.c_str(), "w");
      std::fputs(r.out.c_str(), f);
      std::fclose(f);
    }
    auto py = st::run_program({"/bin/sh", "-c", std::string(st::python_path()) +
                                                    " -c 'import json,sys; json.load(sys.stdin)' < " + path});
    EXPECT_EQ(py.status, 0) << "python rejects: " << r.out << py.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }
};

void hello_routes(http::server<>& srv) {
  srv.get("/", [](http::request&, http::response& res) { res.body = "Hello, World!"; });
  srv.get("/chunked", [](http::request&, http::response& res) {
    res.chunk("Hello, ");
    res.chunk("World!");
  });
  srv.get("/fail", [](http::request&, http::response& res) { res.status = 503; });
  srv.post("/echo", [](http::request& req, http::response& res) { res.body = std::string(req.body()); });
}

TEST_F(load_app, bad_flags_exit_2_with_one_line) {
  const std::vector<std::vector<std::string>> cases = {
      {},                                                // nothing at all
      {"-d", "1s", "http://127.0.0.1:1/"},               // no -c
      {"-c", "4", "http://127.0.0.1:1/"},                // no -d
      {"-c", "4", "-d", "1s"},                           // no URL
      {"-c", "0", "-d", "1s", "http://127.0.0.1:1/"},    // zero connections
      {"-c", "x", "-d", "1s", "http://127.0.0.1:1/"},    // not a number
      {"-c", "4", "-d", "10parsecs", "http://127.0.0.1:1/"},
      {"-c", "4", "-d", "-1s", "http://127.0.0.1:1/"},
      {"-c", "4", "-d", "1s", "--pipeline", "0", "http://127.0.0.1:1/"},
      {"-c", "4", "-d", "1s", "--rate", "0", "http://127.0.0.1:1/"},
      {"-c", "4", "-d", "1s", "--rate", "fast", "http://127.0.0.1:1/"},
      {"-c", "4", "-d", "1s", "-H", "no colon", "http://127.0.0.1:1/"},
      {"-c", "4", "-d", "1s", "-H", "Bad Name: x", "http://127.0.0.1:1/"},
      {"-c", "4", "-d", "1s", "-m", "GE T", "http://127.0.0.1:1/"},
      {"-c", "4", "-d", "1s", "--timeout", "soon", "http://127.0.0.1:1/"},
      {"-c", "4", "-d", "1s", "--body", "/nonexistent/file", "http://127.0.0.1:1/"},
      {"-c", "4", "-d", "1s", "--bogus", "http://127.0.0.1:1/"},
      {"-c", "4", "-d", "1s", "--json=yes", "http://127.0.0.1:1/"},
      {"-c", "4", "-d", "1s", "ws://127.0.0.1:1/"},
      {"-c", "4", "-d", "1s", "--ws", "-m", "POST", "ws://127.0.0.1:1/"},
      {"-c", "4", "-d", "1s", "--ws", "--size", "-1", "ws://127.0.0.1:1/"},
      {"-c", "4", "-d", "1s", "--ws", "ftp://127.0.0.1:1/"},
      {"-c", "4", "-d", "1s", "http://127.0.0.1:1/", "http://127.0.0.1:2/"},
      {"-c", "4", "-d", "1s", "not a url"},
      {"-c", "4", "-d", "1s", "ftp://127.0.0.1/"},
      {"-c", "4", "-d", "1s", "--cacert", "/nonexistent/ca.pem", "https://127.0.0.1:1/"},
      {"-c", "4", "-d", "1s", "-k", "http://127.0.0.1:1/"},  // TLS flags with a plain URL
      {"-c", "4", "-d", "1s", "--insecure=yes", "https://127.0.0.1:1/"},
      {"-c", "1", "-t", "2", "-d", "1s", "http://127.0.0.1:1/"},  // fewer connections than shards
      {"-c", "100000", "-t", "100000", "-d", "1s", "http://127.0.0.1:1/"},  // more shards than CPUs
      {"-c", "4", "-d"},                                 // missing value
  };
  for (const auto& flags : cases) {
    auto r = run(flags);
    std::string what = flags.empty() ? "(none)" : flags.back();
    ASSERT_TRUE(r.status) << what;
    EXPECT_EQ(*r.status, 2) << what << ": " << r.err;
    EXPECT_EQ(r.err.rfind("dusty-load: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST_F(load_app, help_exits_0) {
  auto r = run({"--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("usage: dusty-load"), std::string::npos) << r.out;
}

TEST_F(load_app, drives_dusty_and_reports_json) {
  st::live_server<> srv(hello_routes, st::local_config(), 1);
  auto shards = std::to_string(st::two_shards());
  auto j = run_json({"-c", "4", "-d", "1s", "-t", shards, srv.url("/")});
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["connections"], 4);
  EXPECT_EQ(j["shards"], st::two_shards());
  EXPECT_GT(j["requests"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(j["status"]["200"], j["requests"]);
  EXPECT_EQ(j["errors_total"], 0) << j.dump();
  EXPECT_EQ(j["status_5xx"], 0);
  EXPECT_GT(j["requests_per_sec"].get<double>(), 0);
  EXPECT_GT(j["bytes_read"].get<std::uint64_t>(), j["requests"].get<std::uint64_t>() * 13);
  EXPECT_GE(j["connects"].get<std::uint64_t>(), 4u);
  auto& lat = j["latency_us"];
  EXPECT_EQ(lat["count"], j["requests"]);
  EXPECT_GT(lat["p50"].get<double>(), 0);
  EXPECT_LE(lat["p50"].get<double>(), lat["p99"].get<double>());
  EXPECT_LE(lat["p99"].get<double>(), lat["p99.9"].get<double>());
  EXPECT_LE(lat["p99.9"].get<double>(), lat["max"].get<double>());
}

TEST_F(load_app, pipelined_chunked_and_text_report) {
  st::live_server<> srv(hello_routes, st::local_config(), 1);
  auto j = run_json({"-c", "4", "-d", "1s", "--pipeline", "8", srv.url("/chunked")});
  EXPECT_GT(j["requests"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(j["status"]["200"], j["requests"]);
  EXPECT_EQ(j["errors_total"], 0) << j.dump();
  EXPECT_EQ(j["pipeline"], 8);

  auto r = run({"-c", "2", "-d", "500ms", srv.url("/")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Requests/sec: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("200: "), std::string::npos) << r.out;
  EXPECT_TRUE(r.err.empty()) << "no progress line when stderr is not a terminal: " << r.err;
}

TEST_F(load_app, counts_server_errors_apart_from_transport_errors) {
  st::live_server<> srv(hello_routes, st::local_config(), 1);
  auto j = run_json({"-c", "2", "-d", "500ms", srv.url("/fail")});
  EXPECT_GT(j["requests"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(j["status"]["503"], j["requests"]);
  EXPECT_EQ(j["status_5xx"], j["requests"]);
  EXPECT_EQ(j["errors_total"], 0) << j.dump();
}

TEST_F(load_app, sends_method_headers_and_body) {
  st::live_server<> srv(
      [](http::server<>& s) {
        s.post("/echo", [](http::request& req, http::response& res) {
          bool ok = req.body() == "payload!" && req.header("X-Test") == "yes";
          res.status = ok ? 200 : 400;
        });
      },
      st::local_config(), 1);
  st::temp_dir dir;
  auto body = dir.path("body");
  {
    std::FILE* f = std::fopen(body.c_str(), "w");
    std::fputs("payload!", f);
    std::fclose(f);
  }
  auto j = run_json({"-c", "2", "-d", "500ms", "-m", "POST", "-H", "X-Test: yes", "--body", body, srv.url("/echo")});
  EXPECT_GT(j["requests"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(j["status"]["200"], j["requests"]) << j.dump();
}

TEST_F(load_app, localhost_uses_the_address_that_answers) {
  // "localhost" may resolve to ::1 first; the server listens on 127.0.0.1 only.
  st::live_server<> srv(hello_routes, st::local_config(), 1);
  auto j = run_json({"-c", "2", "-d", "300ms", "http://localhost:" + std::to_string(srv.port()) + "/"});
  EXPECT_GT(j["requests"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(j["errors_total"], 0) << j.dump();
}

TEST_F(load_app, head_responses_have_no_body) {
  st::live_server<> srv(hello_routes, st::local_config(), 1);
  auto j = run_json({"-c", "2", "-d", "500ms", "--pipeline", "4", "-m", "HEAD", srv.url("/")});
  EXPECT_GT(j["requests"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(j["status"]["200"], j["requests"]) << j.dump();
  EXPECT_EQ(j["errors_total"], 0) << j.dump();
}

// --ws: echoes of binary messages of --size bytes; the server checks each message (size,
// type, the generator's letters) and closes on anything else, which the generator counts
// as a protocol error.
void ws_routes(http::server<>& srv, std::size_t size) {
  srv.websocket("/ws", [size](http::request&, http::ws::session& ws) {
    while (auto m = ws.receive()) {
      bool ok = m->is_binary() && m->data.size() == size;
      for (std::size_t i = 0; ok && i < m->data.size(); ++i) ok = m->data[i] == static_cast<char>('a' + i % 26);
      if (!ok) {
        ws.close(http::ws::close_code::unsupported_data, "not the expected message");
        return;
      }
      ws.send(*m);
    }
  });
}

TEST_F(load_app, websocket_echo_closed_loop_and_pipelined) {
  for (std::size_t size : {std::size_t{64}, std::size_t{70'000}}) {
    st::live_server<> srv([size](http::server<>& s) { ws_routes(s, size); }, st::local_config(), 1);
    auto url = "ws://127.0.0.1:" + std::to_string(srv.port()) + "/ws";
    auto j = run_json({"--ws", "--size", std::to_string(size), "-c", "4", "-d", "1s", "--pipeline", "3", url});
    auto messages = j["messages"].get<std::uint64_t>();
    EXPECT_GT(messages, 0u);
    EXPECT_EQ(j["requests"], messages);
    EXPECT_EQ(j["websocket"], true);
    EXPECT_EQ(j["message_size"], size);
    EXPECT_EQ(j["errors_total"], 0) << j.dump();
    EXPECT_EQ(j["connects"], 4) << "no connection was replaced";
    EXPECT_GE(j["bytes_read"].get<std::uint64_t>(), messages * size);
    EXPECT_EQ(j["latency_us"]["count"], messages);
  }
  st::live_server<> srv([](http::server<>& s) { ws_routes(s, 64); }, st::local_config(), 1);
  auto r = run({"--ws", "-c", "2", "-d", "500ms", "ws://127.0.0.1:" + std::to_string(srv.port()) + "/ws"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Messages/sec: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("WebSocket echo of 64-byte messages"), std::string::npos) << r.out;
}

TEST_F(load_app, websocket_rate_refusals_and_closes) {
  st::live_server<> srv([](http::server<>& s) { ws_routes(s, 64); }, st::local_config(), 1);
  auto base = "ws://127.0.0.1:" + std::to_string(srv.port());
  auto j = run_json({"--ws", "-c", "4", "-d", "1s", "--rate", "300", base + "/ws"});
  EXPECT_GT(j["messages"].get<std::uint64_t>(), 0u);
  EXPECT_LE(j["messages"].get<std::uint64_t>(), 300u + 4u);
  EXPECT_EQ(j["errors_total"], 0) << j.dump();
  // No WebSocket route: the 404 is a refused handshake.
  j = run_json({"--ws", "-c", "2", "-d", "300ms", base + "/nowhere"});
  EXPECT_EQ(j["messages"], 0);
  EXPECT_GT(j["errors"]["protocol"].get<std::uint64_t>(), 0u) << j.dump();
  // Messages the server does not expect (wrong size): it closes, each close is counted.
  j = run_json({"--ws", "--size", "10", "-c", "2", "-d", "300ms", base + "/ws"});
  EXPECT_EQ(j["messages"], 0);
  EXPECT_GT(j["errors"]["protocol"].get<std::uint64_t>(), 0u) << j.dump();
}

TEST_F(load_app, rate_never_exceeds_the_schedule) {
  st::live_server<> srv(hello_routes, st::local_config(), 1);
  auto j = run_json({"-c", "4", "-d", "1s", "--rate", "400", "--pipeline", "4", srv.url("/")});
  auto requests = j["requests"].get<std::uint64_t>();
  EXPECT_GT(requests, 0u);
  EXPECT_LE(requests, 400u + 4u) << "400/s for 1 s, plus at most one per connection for rounding";
  EXPECT_EQ(j["errors_total"], 0) << j.dump();
  EXPECT_EQ(j["rate"], 400.0);
}

TEST_F(load_app, rate_latency_includes_queueing_behind_a_slow_server) {
  // The server takes 20 ms per request on the one connection, so it answers at most 50
  // per second; asked for 200 per second, requests queue and, timed from their scheduled
  // send times, wait longer and longer. A closed loop would report about 20 ms.
  st::live_server<> srv(
      [](http::server<>& s) {
        s.get("/slow", [](http::request&, http::response& res) {
          dusty::sleep_for(20ms);
          res.body = "late";
        });
      },
      st::local_config(), 1);
  auto j = run_json({"-c", "1", "-d", "1s", "--rate", "200", "--timeout", "5s", srv.url("/slow")});
  auto requests = j["requests"].get<std::uint64_t>();
  EXPECT_GT(requests, 0u);
  EXPECT_LE(requests, 60u) << "the server cannot answer faster than 50/s";
  EXPECT_EQ(j["errors_total"], 0) << j.dump();
  // The last answers waited for most of the run: far above the 20 ms of service time.
  EXPECT_GT(j["latency_us"]["max"].get<double>(), 200'000) << j.dump();
  EXPECT_GT(j["latency_us"]["p50"].get<double>(), 60'000) << j.dump();
}

TEST_F(load_app, closed_port_counts_connect_errors_and_exits_promptly) {
  // A port nobody listens on: bind one, note it, close it.
  std::uint16_t port;
  {
    auto l = dusty::net::listen(dusty::net::socket_address::ipv4_loopback(), {.reuse_port = false});
    ASSERT_TRUE(l);
    port = l->local_address().port();
  }
  auto started = st::clock_type::now();
  auto j = run_json({"-c", "4", "-d", "1s", "http://127.0.0.1:" + std::to_string(port) + "/"}, 20s);
  EXPECT_LT(st::clock_type::now() - started, 15s);
  EXPECT_EQ(j["requests"], 0);
  EXPECT_GT(j["errors"]["connect"].get<std::uint64_t>(), 0u) << j.dump();
  EXPECT_EQ(j["errors_total"], j["errors"]["connect"]);
}

TEST_F(load_app, unanswered_requests_time_out_and_the_run_still_ends) {
  http::server_config config = st::local_config();
  config.timeouts.drain = std::chrono::milliseconds(100);
  st::live_server<> srv(
      [](http::server<>& s) {
        s.get("/never", [](http::request&, http::response& res) {
          dusty::sleep_for(30s);
          res.body = "too late";
        });
      },
      config, 1);
  auto started = st::clock_type::now();
  auto j = run_json({"-c", "2", "-d", "1s", "--timeout", "200ms", srv.url("/never")}, 20s);
  EXPECT_LT(st::clock_type::now() - started, 15s);
  EXPECT_EQ(j["requests"], 0);
  EXPECT_GT(j["errors"]["timeout"].get<std::uint64_t>(), 0u) << j.dump();
}

// ---- https, against nginx ----

TEST_F(load_app, https_against_nginx_with_and_without_new_connections) {
  if (!dusty::http::peer_test::nginx_peer::available()) GTEST_SKIP() << "nginx is not installed";
  namespace nt = dusty::net::testing;
  dusty::http::peer_test::nginx_peer nginx;
  nginx.add_file("hello.txt", "Hello, TLS!");
  ASSERT_TRUE(nginx.start_tls(nt::cert("server"), nt::cert("server", ".key"), "", "  keepalive_requests 100000;\n", ""));

  // Keep-alive: one handshake per connection.
  auto keep = run_json({"-c", "2", "-d", "1s", "--cacert", nt::cert("ca"), nginx.url("/hello.txt")});
  ASSERT_TRUE(keep.is_object());
  EXPECT_GT(keep["requests"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(keep["status"]["200"], keep["requests"]);
  EXPECT_EQ(keep["errors_total"], 0) << keep.dump();
  EXPECT_EQ(keep["tls_handshakes"], keep["connects"]);
  EXPECT_GE(keep["connects"].get<std::uint64_t>(), 2u);

  // A new connection per request: a handshake per request, resumed after the first ones.
  auto fresh = run_json({"-c", "2", "-d", "1s", "--cacert", nt::cert("ca"), "-H", "Connection: close", nginx.url("/hello.txt")});
  ASSERT_TRUE(fresh.is_object());
  auto requests = fresh["requests"].get<std::uint64_t>();
  EXPECT_GT(requests, 2u);
  EXPECT_EQ(fresh["errors_total"], 0) << fresh.dump();
  EXPECT_GE(fresh["tls_handshakes"].get<std::uint64_t>(), requests);
  EXPECT_GT(fresh["tls_handshakes_per_sec"].get<double>(), 0);
  EXPECT_GT(fresh["tls_resumed"].get<std::uint64_t>(), 0u) << fresh.dump();

  // --no-resume: every handshake is a full one; the text report names the rate.
  auto full = run({"-c", "1", "-d", "500ms", "--cacert", nt::cert("ca"), "--no-resume", "-H", "Connection: close",
                   nginx.url("/hello.txt")});
  EXPECT_EQ(full.status, 0) << full.err;
  EXPECT_NE(full.out.find("handshakes ("), std::string::npos) << full.out;
  EXPECT_NE(full.out.find("/s), 0 resumed"), std::string::npos) << full.out;

  // The system trust store does not know the test CA: every handshake fails (connect
  // errors), and -k lets them through.
  auto untrusted = run_json({"-c", "1", "-d", "300ms", nginx.url("/hello.txt")});
  EXPECT_EQ(untrusted["requests"], 0);
  EXPECT_GT(untrusted["errors"]["connect"].get<std::uint64_t>(), 0u);
  auto insecure = run_json({"-c", "1", "-d", "300ms", "-k", nginx.url("/hello.txt")});
  EXPECT_GT(insecure["requests"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(insecure["errors_total"], 0) << insecure.dump();
}

}  // namespace
