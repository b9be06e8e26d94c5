// http::client against servers written by others, started on loopback by the suite:
// nginx (static files, gzip, chunked via sub_filter, redirects, an idle keep-alive
// timeout of 1 s, a 503 whose access log counts the attempts) and httpbin under gunicorn
// (streams, redirects, cookies, gzip/deflate, delays, status codes, bytes); then dusty's
// own server under concurrent fetches from every shard.
#include <dusty/http/client.hpp>

#include "http/peer_support.hpp"
#include "http/server_support.hpp"

#include <dusty/core/fiber.hpp>
#include <dusty/core/submit_to.hpp>
#include <dusty/http/codec/cookie_jar.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dusty::http {
namespace {

using namespace std::chrono_literals;
using peer_test::httpbin_peer;
using peer_test::nginx_peer;
using server_test::pattern;

constexpr std::size_t large_size = 20 * 1024 * 1024;

/// Streams the body with read_some and compares it with `expected` piece by piece
/// (the body is never held whole). Returns the bytes read.
std::size_t stream_and_compare(client_response& r, std::string_view expected) {
  std::vector<char> buf(16 * 1024);
  std::size_t at = 0;
  bool same = true;
  while (std::size_t n = r.read_some(buf)) {
    if (same && (at + n > expected.size() || expected.substr(at, n) != std::string_view(buf.data(), n))) {
      ADD_FAILURE() << "body differs in the " << n << " bytes at offset " << at;
      same = false;
    }
    at += n;
  }
  return at;
}

/// The code of the client_error `fn` throws; a default code (and a test failure) when
/// it throws none.
std::error_code error_of(const std::function<void()>& fn, std::string* what = nullptr) {
  try {
    fn();
  } catch (const client_error& e) {
    if (what) *what = e.what();
    return e.code();
  }
  ADD_FAILURE() << "expected a client_error";
  return {};
}

class ClientPeers : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (httpbin_peer::available()) {
      httpbin_ = std::make_unique<httpbin_peer>();
      if (!httpbin_->start()) httpbin_.reset();
    }
    if (nginx_peer::available()) {
      nginx_ = std::make_unique<nginx_peer>();
      nginx_->add_file("empty.bin", "");
      nginx_->add_file("small.txt", pattern(1000));
      nginx_->add_file("mid.bin", pattern(100'001, 3));
      nginx_->add_file("large.bin", pattern(large_size, 5));
      nginx_->add_file("text.txt", text());
      nginx_->add_file("chunked/page.txt", text());
      std::string httpbin = httpbin_ ? std::to_string(httpbin_->port()) : "9";
      std::string settings =
          "  keepalive_timeout 1s;\n"
          "  gzip on;\n"
          "  gzip_types text/plain application/json;\n"
          "  gzip_min_length 1;\n";
      std::string locations =
          "    location /chunked/ { sub_filter 'alpha' 'omega'; sub_filter_once off; sub_filter_types text/plain; }\n"
          "    location = /r301 { absolute_redirect off; return 301 /small.txt; }\n"
          "    location = /r302 { return 302 http://127.0.0.1:$PORT/small.txt; }\n"
          "    location = /r307 { return 307 /small.txt; }\n"
          "    location = /r308 { return 308 /small.txt; }\n"
          "    location = /loop { return 302 /loop; }\n"
          "    location = /unavailable { access_log $DIR/unavailable.log; add_header Retry-After 0 always; return 503; }\n"
          "    location = /to-httpbin-post { access_log $DIR/post.log; return 307 http://127.0.0.1:" + httpbin + "/post; }\n"
          "    location = /to-httpbin-headers { return 302 http://localhost:" + httpbin + "/headers; }\n";
      if (!nginx_->start(settings, locations)) nginx_.reset();
    }
  }
  static void TearDownTestSuite() {
    nginx_.reset();
    httpbin_.reset();
  }

  /// Text that compresses well and holds the words sub_filter replaces.
  static std::string text() {
    std::string s;
    for (int i = 0; s.size() < 300'000; ++i) s += "line " + std::to_string(i) + ": alpha beta gamma delta\n";
    return s;
  }

  void need_nginx() {
    if (!nginx_peer::available()) GTEST_SKIP() << nginx_peer::program << " is not installed";
    ASSERT_TRUE(nginx_) << "nginx did not start";
  }
  void need_httpbin() {
    if (!httpbin_peer::available()) GTEST_SKIP() << "python3-httpbin or gunicorn is not installed";
    ASSERT_TRUE(httpbin_) << "httpbin did not start";
  }

  /// Runs `job` in a fiber of the runtime's shard 0 and reports a client_error escaping
  /// it as a failure with its message.
  void run(std::function<void()> job) {
    rt_.call([&] {
      try {
        job();
      } catch (const client_error& e) {
        ADD_FAILURE() << "client_error: " << e.what() << " (" << e.code() << ")";
      }
    });
  }

  static inline std::unique_ptr<httpbin_peer> httpbin_;
  static inline std::unique_ptr<nginx_peer> nginx_;
  server_test::runtime_thread rt_{1};
};

// ---------------------------------------------------------------------------------------
// nginx

TEST_F(ClientPeers, NginxStaticFilesOfKnownSizesOverOneConnection) {
  need_nginx();
  run([&] {
    client c;
    fetch_options raw;
    raw.decompress = false;
    auto r = c.get(nginx_->url("/empty.bin"), raw);
    EXPECT_EQ(r.status(), status::ok);
    EXPECT_EQ(r.body(), "");
    r = c.get(nginx_->url("/small.txt"), raw);
    EXPECT_EQ(r.body(), pattern(1000));
    EXPECT_EQ(r.header("content-length"), "1000");
    r = c.get(nginx_->url("/mid.bin"), raw);
    EXPECT_EQ(r.body().size(), 100'001u);
    EXPECT_TRUE(r.body() == pattern(100'001, 3));
    auto h = c.head(nginx_->url("/mid.bin"), raw);
    EXPECT_EQ(h.status(), status::ok);
    EXPECT_EQ(h.header("Content-Length"), "100001");
    EXPECT_EQ(h.body(), "");
    auto missing = c.get(nginx_->url("/nope"), raw);
    EXPECT_EQ(missing.status(), status::not_found);
    missing.body();
    // Five requests in a row, each body read to its end: one connection, reused.
    auto s = c.stats();
    EXPECT_EQ(s.created, 1u);
    EXPECT_EQ(s.reused, 4u);
    EXPECT_EQ(s.idle, 1u);
  });
}

TEST_F(ClientPeers, NginxLargeFileStreamsAndIsBoundedByMaxResponseSize) {
  need_nginx();
  run([&] {
    client c;
    fetch_options o;
    o.max_response_size = 32 * 1024 * 1024;
    auto r = c.get(nginx_->url("/large.bin"), o);
    EXPECT_EQ(r.header("Content-Length"), std::to_string(large_size));
    EXPECT_EQ(stream_and_compare(r, pattern(large_size, 5)), large_size);

    // The default limit (8 MiB) is below 20 MiB: body() refuses it.
    std::string what;
    auto big = c.get(nginx_->url("/large.bin"));
    EXPECT_EQ(error_of([&] { big.body(); }, &what), errc::response_too_large);
    EXPECT_NE(what.find("larger than"), std::string::npos) << what;
  });
}

TEST_F(ClientPeers, NginxGzipIsDecodedOrPassedThrough) {
  need_nginx();
  run([&] {
    client c;
    auto r = c.get(nginx_->url("/text.txt"));
    EXPECT_EQ(r.header("Content-Encoding"), "gzip");
    EXPECT_TRUE(r.body() == text()) << "decoded size " << r.body().size();

    fetch_options raw;
    raw.decompress = false;
    auto z = c.get(nginx_->url("/text.txt"), raw);
    EXPECT_FALSE(z.header("Content-Encoding"));  // no Accept-Encoding was sent
    EXPECT_TRUE(z.body() == text());

    fetch_options gzip_raw;
    gzip_raw.decompress = false;
    gzip_raw.headers = {{"Accept-Encoding", "gzip"}};
    auto g = c.get(nginx_->url("/text.txt"), gzip_raw);
    EXPECT_EQ(g.header("Content-Encoding"), "gzip");
    ASSERT_GE(g.body().size(), 2u);
    EXPECT_EQ(g.body().substr(0, 2), "\x1f\x8b");
    EXPECT_LT(g.body().size(), text().size() / 4);
  });
}

TEST_F(ClientPeers, NginxChunkedResponse) {
  need_nginx();
  run([&] {
    client c;
    fetch_options raw;
    raw.decompress = false;
    std::string expected = text();
    for (auto p = expected.find("alpha"); p != std::string::npos; p = expected.find("alpha", p)) expected.replace(p, 5, "omega");
    for (int round = 0; round < 2; ++round) {  // the second one on the reused connection
      auto r = c.get(nginx_->url("/chunked/page.txt"), raw);
      EXPECT_EQ(r.header("Transfer-Encoding"), "chunked");
      EXPECT_FALSE(r.header("Content-Length"));
      EXPECT_EQ(stream_and_compare(r, expected), expected.size());
    }
    EXPECT_EQ(c.stats().created, 1u);
    // gzip on top of chunked, decoded.
    auto z = c.get(nginx_->url("/chunked/page.txt"));
    EXPECT_TRUE(z.body() == expected);
  });
}

TEST_F(ClientPeers, NginxRedirects) {
  need_nginx();
  run([&] {
    client c;
    for (std::string_view path : {"/r301", "/r302", "/r307", "/r308"}) {
      SCOPED_TRACE(path);
      auto r = c.get(nginx_->url(path));
      EXPECT_EQ(r.status(), status::ok);
      EXPECT_EQ(r.redirects(), 1u);
      EXPECT_EQ(r.url().path(), "/small.txt");
      EXPECT_EQ(r.body(), pattern(1000));
    }
    fetch_options none;
    none.max_redirects = 0;
    auto r = c.get(nginx_->url("/r301"), none);
    EXPECT_EQ(r.status_code(), 301u);
    EXPECT_EQ(r.header("Location"), "/small.txt");
    EXPECT_EQ(r.redirects(), 0u);
    r.body();

    fetch_options few;
    few.max_redirects = 3;
    std::string what;
    EXPECT_EQ(error_of([&] { c.get(nginx_->url("/loop"), few); }, &what), errc::too_many_redirects);
    EXPECT_FALSE(what.empty());
  });
}

TEST_F(ClientPeers, NginxStaleKeepAliveConnectionIsReplaced) {
  need_nginx();
  run([&] {
    client c;
    fetch_options raw;
    raw.decompress = false;
    EXPECT_EQ(c.get(nginx_->url("/small.txt"), raw).body(), pattern(1000));
    EXPECT_EQ(c.stats().created, 1u);
    EXPECT_EQ(c.stats().idle, 1u);
    // nginx closes a keep-alive connection idle for 1 s; ours still sits in the pool.
    dusty::sleep_for(1500ms);
    auto r = c.get(nginx_->url("/small.txt"), raw);
    EXPECT_EQ(r.status(), status::ok);
    EXPECT_EQ(r.body(), pattern(1000));
    EXPECT_EQ(c.stats().created, 2u);
    // And once more at once: the new connection is reused.
    EXPECT_EQ(c.get(nginx_->url("/small.txt"), raw).body(), pattern(1000));
    EXPECT_EQ(c.stats().created, 2u);
  });
}

TEST_F(ClientPeers, NginxStaleConnectionBeforeAPostIsReplacedNotRepeated) {
  need_nginx();
  need_httpbin();
  run([&] {
    client c;
    EXPECT_EQ(c.get(nginx_->url("/small.txt")).status(), status::ok);
    dusty::sleep_for(1500ms);
    // POST to nginx, which answers 307 to httpbin's /post: the POST is sent once on a
    // fresh connection (nothing was sent on the stale one) and its body follows the 307.
    fetch_options o;
    o.body = "stale-post";
    o.headers = {{"Content-Type", "text/plain"}};
    auto r = c.post(nginx_->url("/to-httpbin-post"), o);
    EXPECT_EQ(r.status(), status::ok);
    EXPECT_EQ(r.redirects(), 1u);
    EXPECT_EQ(r.json()["data"], "stale-post");
    EXPECT_EQ(nginx_->wait_log_lines("post.log", 1), 1u) << "the POST reached nginx once";
  });
}

TEST_F(ClientPeers, NginxRetriesIdempotent503ButNotPost) {
  need_nginx();
  run([&] {
    client c;
    fetch_options o;
    o.retry = retry_policy{.max_retries = 2, .base_delay = 10ms, .max_delay = 50ms};
    auto r = c.get(nginx_->url("/unavailable"), o);
    EXPECT_EQ(r.status(), status::service_unavailable);
    r.body();
    EXPECT_EQ(nginx_->wait_log_lines("unavailable.log", 3), 3u) << "GET: one attempt and two retries";

    auto p = c.post(nginx_->url("/unavailable"), o);
    EXPECT_EQ(p.status(), status::service_unavailable);
    p.body();
    EXPECT_EQ(nginx_->wait_log_lines("unavailable.log", 4), 4u) << "POST: never retried";

    fetch_options never = o;
    never.retry = retry_policy{.max_retries = 0};
    c.get(nginx_->url("/unavailable"), never).body();
    EXPECT_EQ(nginx_->wait_log_lines("unavailable.log", 5), 5u);
  });
}

TEST_F(ClientPeers, NginxRedirectToAnotherHostDropsAuthorization) {
  need_nginx();
  need_httpbin();
  run([&] {
    client c;
    fetch_options o;
    o.headers = {{"Authorization", "Bearer secret"}, {"X-Kept", "yes"}};
    auto r = c.get(nginx_->url("/to-httpbin-headers"), o);
    ASSERT_EQ(r.status(), status::ok);
    auto headers = r.json()["headers"];
    EXPECT_FALSE(headers.contains("Authorization")) << headers.dump();
    EXPECT_EQ(headers.value("X-Kept", ""), "yes");
    EXPECT_EQ(r.url().host, "localhost");
  });
}

// ---------------------------------------------------------------------------------------
// httpbin (gunicorn)

TEST_F(ClientPeers, HttpbinChunkedStream) {
  need_httpbin();
  run([&] {
    client c;
    auto r = c.get(httpbin_->url("/stream/20"));
    ASSERT_EQ(r.status(), status::ok);
    EXPECT_EQ(r.header("Transfer-Encoding"), "chunked");
    std::string_view body = r.body();
    int lines = 0;
    while (!body.empty()) {
      auto end = body.find('\n');
      auto line = body.substr(0, end);
      EXPECT_EQ(nlohmann::json::parse(line)["id"], lines);
      ++lines;
      body.remove_prefix(end == std::string_view::npos ? body.size() : end + 1);
    }
    EXPECT_EQ(lines, 20);

    // A chunked body of raw bytes, streamed.
    auto b = c.get(httpbin_->url("/stream-bytes/65536?chunk_size=1000&seed=7"));
    std::array<char, 4096> buf;
    std::size_t total = 0;
    while (auto n = b.read_some(buf)) total += n;
    EXPECT_EQ(total, 65536u);
  });
}

TEST_F(ClientPeers, HttpbinRedirects) {
  need_httpbin();
  run([&] {
    client c;
    for (std::string_view path : {"/redirect/3", "/relative-redirect/3", "/absolute-redirect/3"}) {
      SCOPED_TRACE(path);
      auto r = c.get(httpbin_->url(path));
      EXPECT_EQ(r.status(), status::ok);
      EXPECT_EQ(r.redirects(), 3u);
      EXPECT_EQ(r.url().path(), "/get");
      EXPECT_TRUE(r.json().contains("headers"));
    }
    fetch_options two;
    two.max_redirects = 2;
    EXPECT_EQ(error_of([&] { c.get(httpbin_->url("/redirect/3"), two); }), errc::too_many_redirects);

    fetch_options none;
    none.max_redirects = 0;
    auto r = c.get(httpbin_->url("/redirect/1"), none);
    EXPECT_EQ(r.status_code(), 302u);
    EXPECT_TRUE(r.header("Location"));
  });
}

TEST_F(ClientPeers, HttpbinRedirectMethodAndBodyRules) {
  need_httpbin();
  run([&] {
    client c;
    // 307 and 308 repeat the POST with its body (/post answers POST only).
    for (int code : {307, 308}) {
      SCOPED_TRACE(code);
      fetch_options o;
      o.body = "payload-" + std::to_string(code);
      o.headers = {{"Content-Type", "text/plain"}};
      auto r = c.post(httpbin_->url("/redirect-to?url=/post&status_code=" + std::to_string(code)), o);
      ASSERT_EQ(r.status(), status::ok);
      EXPECT_EQ(r.redirects(), 1u);
      EXPECT_EQ(r.json()["data"], "payload-" + std::to_string(code));
    }
    // 301, 302 and 303 turn a POST into a GET without body (/get answers GET only).
    for (int code : {301, 302, 303}) {
      SCOPED_TRACE(code);
      fetch_options o;
      o.body = "dropped";
      auto r = c.post(httpbin_->url("/redirect-to?url=/get&status_code=" + std::to_string(code)), o);
      ASSERT_EQ(r.status(), status::ok);
      auto j = r.json();
      EXPECT_FALSE(j["headers"].contains("Content-Length")) << j.dump();
    }
    // A JSON body kept through a 307.
    fetch_options j;
    j.json = nlohmann::json{{"k", "v"}, {"n", 3}};
    auto r = c.post(httpbin_->url("/redirect-to?url=/post&status_code=307"), j);
    ASSERT_EQ(r.status(), status::ok);
    EXPECT_EQ(r.json()["json"], (nlohmann::json{{"k", "v"}, {"n", 3}}));
  });
}

TEST_F(ClientPeers, HttpbinCookies) {
  need_httpbin();
  run([&] {
    client c(client_config{.cookies = true});
    // /cookies/set answers 302 to /cookies with Set-Cookie: the jar sends them back.
    auto r = c.get(httpbin_->url("/cookies/set?flavour=oat&n=7"));
    ASSERT_EQ(r.status(), status::ok);
    EXPECT_EQ(r.json()["cookies"], (nlohmann::json{{"flavour", "oat"}, {"n", "7"}}));
    EXPECT_EQ(c.get(httpbin_->url("/cookies")).json()["cookies"], (nlohmann::json{{"flavour", "oat"}, {"n", "7"}}));
    c.get(httpbin_->url("/cookies/delete?n")).body();
    EXPECT_EQ(c.get(httpbin_->url("/cookies")).json()["cookies"], (nlohmann::json{{"flavour", "oat"}}));

    // A jar of the caller's, with a client that keeps none of its own.
    client plain;
    cookie_jar jar;
    fetch_options o;
    o.cookies = &jar;
    EXPECT_EQ(plain.get(httpbin_->url("/cookies/set?mine=1"), o).json()["cookies"], (nlohmann::json{{"mine", "1"}}));
    EXPECT_EQ(jar.size(), 1u);
    EXPECT_EQ(plain.get(httpbin_->url("/cookies")).json()["cookies"], nlohmann::json::object());
  });
}

TEST_F(ClientPeers, HttpbinGzipAndDeflate) {
  need_httpbin();
  run([&] {
    client c;
    auto g = c.get(httpbin_->url("/gzip"));
    EXPECT_EQ(g.header("Content-Encoding"), "gzip");
    EXPECT_EQ(g.json()["gzipped"], true);
    auto d = c.get(httpbin_->url("/deflate"));
    EXPECT_EQ(d.header("Content-Encoding"), "deflate");
    EXPECT_EQ(d.json()["deflated"], true);

    fetch_options raw;
    raw.decompress = false;
    auto z = c.get(httpbin_->url("/gzip"), raw);
    ASSERT_GE(z.body().size(), 2u);
    EXPECT_EQ(z.body().substr(0, 2), "\x1f\x8b");
  });
}

TEST_F(ClientPeers, HttpbinDelayAgainstTimeouts) {
  need_httpbin();
  run([&] {
    client c;
    fetch_options whole;
    whole.request_timeout = 1s;
    std::string what;
    EXPECT_EQ(error_of([&] { c.get(httpbin_->url("/delay/3"), whole); }, &what), dusty::errc::timed_out);
    EXPECT_NE(what.find("timeout"), std::string::npos) << what;

    fetch_options gap;
    gap.read_timeout = 1s;
    EXPECT_EQ(error_of([&] { c.get(httpbin_->url("/delay/3"), gap); }), dusty::errc::timed_out);

    // The timed-out connections were discarded; the next fetch works.
    EXPECT_EQ(c.get(httpbin_->url("/get"), whole).status(), status::ok);
  });
}

TEST_F(ClientPeers, HttpbinStatusCodes) {
  need_httpbin();
  run([&] {
    client c;
    fetch_options o;
    o.retry = retry_policy{.max_retries = 2, .base_delay = 10ms, .max_delay = 50ms};
    EXPECT_EQ(c.get(httpbin_->url("/status/503"), o).status(), status::service_unavailable);
    EXPECT_EQ(c.get(httpbin_->url("/status/418")).status_code(), 418u);
    auto none = c.get(httpbin_->url("/status/204"));
    EXPECT_EQ(none.status(), status::no_content);
    EXPECT_EQ(none.body(), "");
    auto head = c.head(httpbin_->url("/get"));
    EXPECT_EQ(head.status(), status::ok);
    EXPECT_EQ(head.body(), "");
    EXPECT_EQ(c.get(httpbin_->url("/get")).status(), status::ok);
  });
}

TEST_F(ClientPeers, HttpbinBytesAndResponseSizeLimit) {
  need_httpbin();
  run([&] {
    client c;
    auto r = c.get(httpbin_->url("/bytes/102400?seed=1"));
    EXPECT_EQ(r.body().size(), 102400u);

    fetch_options small;
    small.max_response_size = 50'000;
    std::string what;
    auto big = c.get(httpbin_->url("/bytes/102400"), small);
    EXPECT_EQ(error_of([&] { big.body(); }, &what), errc::response_too_large);
    EXPECT_NE(what.find("larger than"), std::string::npos) << what;

    auto streamed = c.get(httpbin_->url("/stream-bytes/102400?chunk_size=4096"), small);
    std::array<char, 4096> buf;
    std::size_t total = 0;
    EXPECT_EQ(error_of([&] {
                while (auto n = streamed.read_some(buf)) total += n;
              }),
              errc::response_too_large);
    EXPECT_LE(total, 50'000u);
  });
}

TEST_F(ClientPeers, HttpbinMethodsHeadersAndBodies) {
  need_httpbin();
  run([&] {
    client c;
    fetch_options o;
    o.json = nlohmann::json{{"a", 1}};
    o.headers = {{"X-Test", "dusty"}};
    auto put = c.put(httpbin_->url("/anything/x"), o).json();
    EXPECT_EQ(put["method"], "PUT");
    EXPECT_EQ(put["json"], (nlohmann::json{{"a", 1}}));
    EXPECT_EQ(put["headers"]["X-Test"], "dusty");
    EXPECT_EQ(put["headers"]["Content-Type"], "application/json");
    EXPECT_EQ(put["headers"]["User-Agent"], "dusty");

    EXPECT_EQ(c.patch(httpbin_->url("/anything"), {.body = "p"}).json()["method"], "PATCH");
    EXPECT_EQ(c.delete_(httpbin_->url("/anything")).json()["method"], "DELETE");

    // A streamed request body (chunked transfer coding).
    fetch_options s;
    int calls = 0;
    s.stream = [&calls](std::span<char> buf) -> std::size_t {
      if (calls == 3) return 0;
      std::string piece = "part" + std::to_string(calls++) + ";";
      std::copy(piece.begin(), piece.end(), buf.begin());
      return piece.size();
    };
    s.headers = {{"Content-Type", "text/plain"}};
    auto streamed = c.post(httpbin_->url("/post"), std::move(s)).json();
    EXPECT_EQ(streamed["data"], "part0;part1;part2;");
  });
}

// ---------------------------------------------------------------------------------------
// dusty's own server: concurrent fetches from every shard over capped keep-alive pools.

TEST(ClientPeersOwnServer, ConcurrentFetchesFromEveryShardReuseConnections) {
  unsigned shards = server_test::two_shards();
  server_test::live_server<> srv(
      [](server<>& s) {
        s.get("/n/:id", [](request& req, response& res) {
          res.content_type("text/plain");
          res.body = "n=" + std::string(req.param("id"));
        });
      },
      server_test::local_config(), shards);

  constexpr std::size_t cap = 4;
  constexpr int fibers_per_shard = 16;
  constexpr int requests_per_fiber = 25;
  server_test::runtime_thread rt(shards);
  rt.call([&] {
    client c(client_config{.max_connections_per_host = cap, .max_idle_per_host = cap});
    std::string base = srv.url("/n/");
    std::vector<dusty::future<client::pool_stats>> results;
    for (unsigned shard = 0; shard < dusty::shard_count(); ++shard) {
      results.push_back(dusty::submit_to(shard, [&c, base, shard] {
        int wrong = 0;
        std::vector<fiber> fibers;
        for (int f = 0; f < fibers_per_shard; ++f) {
          fibers.push_back(spawn([&c, &wrong, &base, f, shard] {
            for (int i = 0; i < requests_per_fiber; ++i) {
              std::string id = std::to_string(shard) + "-" + std::to_string(f) + "-" + std::to_string(i);
              try {
                auto r = c.get(base + id);
                if (r.status() != status::ok || r.body() != "n=" + id) ++wrong;
              } catch (const client_error& e) {
                ADD_FAILURE() << "shard " << shard << ": " << e.what();
                ++wrong;
              }
            }
          }));
        }
        for (auto& f : fibers) f.join();
        EXPECT_EQ(wrong, 0) << "shard " << shard;
        return c.stats();
      }));
    }
    for (unsigned shard = 0; shard < results.size(); ++shard) {
      auto s = results[shard].get();
      SCOPED_TRACE("shard " + std::to_string(shard));
      constexpr std::uint64_t total = fibers_per_shard * requests_per_fiber;
      EXPECT_LE(s.created, cap);
      EXPECT_GE(s.reused, total - s.created);
      EXPECT_LE(s.open, cap);
      EXPECT_EQ(s.waiting, 0u);
    }
  });
}

}  // namespace
}  // namespace dusty::http
