#include <dusty/http/client.hpp>

#include "http/client_support.hpp"

#include <dusty/core/submit_to.hpp>
#include <dusty/http/codec/content_coding.hpp>
#include <dusty/http/server.hpp>

#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <string>
#include <vector>

namespace dusty::http {
namespace {

using namespace client_test;

server_config local() {
  server_config c;
  c.address = "127.0.0.1";
  c.port = 0;
  c.limits.max_body_size = 4 * 1024 * 1024;
  return c;
}

std::string url_of(server<>& s, std::string_view path) {
  return "http://127.0.0.1:" + std::to_string(s.address().port()) + std::string(path);
}

void routes(server<>& s) {
  s.get("/hello", [](request&, response& res) { res.body = "Hello, World!"; });
  s.get("/json", [](request&, response& res) { res.json({{"message", "hi"}}); });
  s.post("/echo", [](request& req, response& res) {
    res.header("X-Framing", req.header("transfer-encoding") ? "chunked" : "length");
    res.header("X-Type", req.header("content-type").value_or(""));
    res.body = std::string(req.body());
  });
  s.get("/chunked", [](request&, response& res) {
    for (int i = 0; i < 5; ++i) res.chunk("piece" + std::to_string(i) + ";");
  });
  s.get("/big", [](request&, response& res) { res.body = std::string(300000, 'z'); });
  s.get("/nothing", [](request&, response& res) { res.status = 204; });
  s.get("/headers", [](request& req, response& res) {
    nlohmann::json j = nlohmann::json::object();
    for (auto& f : req.headers()) j[std::string(f.name)] = std::string(f.value);
    res.json(j);
  });
  s.get("/slow", [](request&, response& res) {
    sleep_for(30ms);
    res.body = "slow";
  });
}

// A server<> on 127.0.0.1 in the calling runtime, stopped at scope end.
struct own_server {
  own_server() : srv(local()) {
    routes(srv);
    srv.start();
  }
  ~own_server() { srv.stop(); }
  std::string url(std::string_view path) { return url_of(srv, path); }
  server<> srv;
};

template <class F>
client_error expect_error(F fn) {
  try {
    fn();
  } catch (const client_error& e) {
    return e;
  }
  ADD_FAILURE() << "no client_error thrown";
  return client_error(std::error_code(), "none");
}

TEST(Client, GetsAndReusesTheConnection) {
  in_runtime([] {
    own_server s;
    client c;
    for (int i = 0; i < 5; ++i) {
      auto r = c.get(s.url("/hello"));
      EXPECT_EQ(r.status(), status::ok);
      EXPECT_EQ(r.status_code(), 200u);
      EXPECT_EQ(r.version(), 11u);
      EXPECT_EQ(r.body(), "Hello, World!");
      EXPECT_EQ(r.header("content-length"), "13");
      EXPECT_EQ(r.url().to_string(), s.url("/hello"));
    }
    auto st = c.stats();
    EXPECT_EQ(st.created, 1u);
    EXPECT_EQ(st.reused, 4u);
    EXPECT_EQ(st.open, 1u);
    EXPECT_EQ(st.idle, 1u);
    EXPECT_EQ(c.get(s.url("/json")).json()["message"], "hi");
    c.close_idle();
    EXPECT_EQ(c.stats().open, 0u);
    EXPECT_EQ(c.stats().idle, 0u);
  });
}

TEST(Client, SendsBodiesJsonAndStreams) {
  in_runtime([] {
    own_server s;
    client c;
    auto r = c.post(s.url("/echo"), {.body = std::string("plain body")});
    EXPECT_EQ(r.body(), "plain body");
    EXPECT_EQ(r.header("x-framing"), "length");

    r = c.post(s.url("/echo"), {.json = nlohmann::json{{"a", 1}}});
    EXPECT_EQ(r.json()["a"], 1);
    EXPECT_EQ(r.header("x-type"), "application/json");

    int calls = 0;
    fetch_options o;
    o.stream = [&](std::span<char> buf) -> std::size_t {
      if (calls == 3) return 0;
      std::string part = "part" + std::to_string(calls++);
      std::copy(part.begin(), part.end(), buf.begin());
      return part.size();
    };
    r = c.post(s.url("/echo"), std::move(o));
    EXPECT_EQ(r.body(), "part0part1part2");
    EXPECT_EQ(r.header("x-framing"), "chunked");

    // An empty POST still says Content-Length: 0.
    r = c.post(s.url("/echo"));
    EXPECT_EQ(r.status_code(), 200u);
    EXPECT_EQ(r.body(), "");
    EXPECT_EQ(c.stats().created, 1u);
  });
}

TEST(Client, SendsItsOwnAndTheCallersHeaders) {
  in_runtime([] {
    own_server s;
    client c;
    auto j = c.get(s.url("/headers"), {.headers = {{"X-Custom", "1"}, {"User-Agent", "mine"}, {"Host", "ignored"}}})
                 .json();
    EXPECT_EQ(j["Host"], "127.0.0.1:" + std::to_string(s.srv.address().port()));
    EXPECT_EQ(j["User-Agent"], "mine");
    EXPECT_EQ(j["X-Custom"], "1");
    EXPECT_EQ(j["Accept-Encoding"], "gzip, deflate");
    auto basic = c.get("http://user:p%40ss@127.0.0.1:" + std::to_string(s.srv.address().port()) + "/headers").json();
    EXPECT_EQ(basic["Authorization"], "Basic dXNlcjpwQHNz");  // user:p@ss
    auto e = expect_error([&] { c.get(s.url("/headers"), {.headers = {{"X-Bad", "a\r\nX-Injected: 1"}}}); });
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_header));
  });
}

TEST(Client, ResponsesWithoutBodyAndChunked) {
  in_runtime([] {
    own_server s;
    client c;
    auto h = c.head(s.url("/big"));
    EXPECT_EQ(h.status_code(), 200u);
    EXPECT_EQ(h.header("content-length"), "300000");
    EXPECT_EQ(h.body(), "");
    auto n = c.get(s.url("/nothing"));
    EXPECT_EQ(n.status_code(), 204u);
    EXPECT_EQ(n.body(), "");
    auto ch = c.get(s.url("/chunked"));
    EXPECT_EQ(ch.header("transfer-encoding"), "chunked");
    EXPECT_EQ(ch.body(), "piece0;piece1;piece2;piece3;piece4;");
    auto big = c.get(s.url("/big"));
    std::string streamed;
    std::array<char, 7000> buf;
    while (auto k = big.read_some(buf)) streamed.append(buf.data(), k);
    EXPECT_EQ(streamed, std::string(300000, 'z'));
    EXPECT_EQ(c.stats().created, 1u);  // every one of them read to its end
  });
}

TEST(Client, RejectsBadUrlsBeforeAnyIo) {
  in_runtime([] {
    client c;
    auto e = expect_error([&] { c.get("ftp://x"); });
    EXPECT_EQ(e.code(), make_error_code(errc::unsupported_scheme));
    EXPECT_STREQ(e.what(), "unsupported URL scheme: ftp://x");
    e = expect_error([&] { c.get("http://"); });
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_url));
    // https:// is no bad URL: it gets as far as connecting.
    e = expect_error([&] { c.get("https://127.0.0.1:1/", {.retry = retry_policy{.max_retries = 0}}); });
    EXPECT_EQ(e.code(), std::errc::connection_refused);
    e = expect_error([&] { c.get("http://h/", {.body = std::string("x"), .json = nlohmann::json(1)}); });
    EXPECT_EQ(e.code(), std::errc::invalid_argument);
    EXPECT_EQ(c.stats().created, 0u);
  });
}

TEST(Client, ConnectRefused) {
  in_runtime([] {
    std::uint16_t port;
    {
      auto l = net::listen(net::socket_address::ipv4_loopback());
      ASSERT_TRUE(l);
      port = l->local_address().port();
    }
    client c;
    auto e = expect_error([&] { c.get("http://127.0.0.1:" + std::to_string(port) + "/", {.retry = retry_policy{.max_retries = 1, .base_delay = 1ms}}); });
    EXPECT_EQ(e.code(), std::errc::connection_refused);
    EXPECT_EQ(std::string(e.what()), "connect refused: 127.0.0.1:" + std::to_string(port));
  });
}

TEST(Client, ConnectTimeoutAgainstAFullBacklog) {
  in_runtime([] {
    // A listener that never accepts, with its queue full: the kernel drops further SYNs,
    // so a connect waits (on loopback, with no packet leaving the machine).
    auto l = net::listen(net::socket_address::ipv4_loopback(), {.backlog = 0});
    ASSERT_TRUE(l);
    std::vector<net::connection> fillers;
    bool full = false;
    for (int i = 0; i < 16 && !full; ++i) {
      auto c = net::connect(l->local_address(), after(200ms));
      if (c) {
        fillers.push_back(std::move(*c));
      } else {
        full = c.error() == dusty::errc::timed_out;
      }
    }
    if (!full) GTEST_SKIP() << "the kernel did not stop accepting into the backlog";
    client c;
    auto port = std::to_string(l->local_address().port());
    auto e = expect_error([&] { c.get("http://127.0.0.1:" + port + "/", {.connect_timeout = 100ms}); });
    EXPECT_EQ(e.code(), dusty::errc::timed_out);
    EXPECT_EQ(std::string(e.what()), "timeout after 100ms connecting to 127.0.0.1:" + port);
  });
}

TEST(Client, NamesAndIpv6) {
  in_runtime([] {
    fake_server v4(serve([](const seen_request& r, int, int) { return scripted_answer{ok("v4 " + *r.header("host"))}; }));
    client c;
    // localhost may resolve to ::1 first, where nobody listens: the next address is tried.
    EXPECT_EQ(c.get("http://localhost:" + std::to_string(v4.port()) + "/").body(),
              "v4 localhost:" + std::to_string(v4.port()));
    auto probe = net::listen(net::socket_address::ipv6_loopback());
    if (!probe) GTEST_SKIP() << "no IPv6 loopback";
    probe->close();
    fake_server v6(serve([](const seen_request& r, int, int) { return scripted_answer{ok("v6 " + *r.header("host"))}; }),
                   net::socket_address::ipv6_loopback());
    auto port = std::to_string(v6.port());
    EXPECT_EQ(c.get("http://[::1]:" + port + "/").body(), "v6 [::1]:" + port);
  });
}

TEST(Client, DiscardsAConnectionWhoseBodyWasNotRead) {
  in_runtime([] {
    own_server s;
    client c;
    {
      auto r = c.get(s.url("/big"));
      EXPECT_EQ(r.status_code(), 200u);
      EXPECT_EQ(c.stats().open, 1u);
    }  // dropped unread
    EXPECT_EQ(c.stats().open, 0u);
    EXPECT_EQ(c.get(s.url("/hello")).body(), "Hello, World!");
    EXPECT_EQ(c.stats().created, 2u);
    EXPECT_EQ(c.stats().reused, 0u);
  });
}

TEST(Client, CapWaitsInFifoOrder) {
  in_runtime([] {
    own_server s;
    client c({.max_connections_per_host = 1});
    std::vector<int> order;
    std::vector<fiber> fibers;
    std::size_t max_waiting = 0;
    for (int i = 0; i < 4; ++i) {
      fibers.push_back(spawn([&, i] {
        auto r = c.get(s.url("/slow"));
        EXPECT_EQ(r.body(), "slow");
        order.push_back(i);
      }));
    }
    for (int i = 0; i < 100 && order.size() < 4; ++i) {
      max_waiting = std::max(max_waiting, c.stats().waiting);
      EXPECT_LE(c.stats().open, 1u);
      sleep_for(5ms);
    }
    for (auto& f : fibers) f.join();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_GE(max_waiting, 2u);
    EXPECT_EQ(c.stats().created, 1u);
    EXPECT_EQ(c.stats().reused, 3u);
  });
}

TEST(Client, IdleConnectionsExpire) {
  in_runtime([] {
    own_server s;
    client c({.idle_timeout = 50ms});
    EXPECT_EQ(c.get(s.url("/hello")).body(), "Hello, World!");
    EXPECT_EQ(c.stats().idle, 1u);
    sleep_for(120ms);
    EXPECT_EQ(c.stats().idle, 0u);
    EXPECT_EQ(c.stats().open, 0u);
    EXPECT_EQ(c.get(s.url("/hello")).body(), "Hello, World!");
    EXPECT_EQ(c.stats().created, 2u);
  });
}

// Answers the first request on each connection, then reads the next one and closes
// without answering: a keep-alive connection the server gave up on.
fake_server::script answer_once_then_drop(std::vector<std::string>& seen) {
  return [&seen](net::connection& c, int) {
    net::buffered_stream in(c);
    auto first = read_request(in);
    if (!first) return;
    seen.push_back(first->method);
    send(c, ok("one"));
    auto second = read_request(in);
    if (second) seen.push_back(second->method);
  };
}

TEST(Client, StaleConnectionIsRetriedOnceForGet) {
  in_runtime([] {
    std::vector<std::string> seen;
    fake_server srv(answer_once_then_drop(seen));
    client c;
    EXPECT_EQ(c.get(srv.url("/")).body(), "one");
    EXPECT_EQ(c.get(srv.url("/"), {.retry = retry_policy{.max_retries = 0}}).body(), "one");
    EXPECT_EQ(srv.accepted(), 2);
    EXPECT_EQ(seen, (std::vector<std::string>{"GET", "GET", "GET"}));
    EXPECT_EQ(c.stats().reused, 1u);
  });
}

TEST(Client, StaleConnectionIsNotRetriedForPost) {
  in_runtime([] {
    std::vector<std::string> seen;
    fake_server srv(answer_once_then_drop(seen));
    client c;
    EXPECT_EQ(c.post(srv.url("/"), {.body = std::string("a")}).body(), "one");
    auto e = expect_error([&] { c.post(srv.url("/"), {.body = std::string("b")}); });
    EXPECT_EQ(e.code(), dusty::errc::eof);
    EXPECT_NE(std::string(e.what()).find("connection closed by 127.0.0.1"), std::string::npos) << e.what();
    EXPECT_EQ(seen, (std::vector<std::string>{"POST", "POST"}));  // the second one, once
    EXPECT_EQ(srv.accepted(), 1);
  });
}

TEST(Client, IdleConnectionClosedByTheServerIsNotUsed) {
  in_runtime([] {
    fake_server srv(serve([](const seen_request&, int, int) { return scripted_answer{ok("x"), true}; }));
    client c;
    EXPECT_EQ(c.post(srv.url("/"), {.body = std::string("a")}).body(), "x");
    sleep_for(20ms);  // the close reaches us while the connection is idle
    EXPECT_EQ(c.post(srv.url("/"), {.body = std::string("b")}).body(), "x");
    EXPECT_EQ(srv.accepted(), 2);
    EXPECT_EQ(c.stats().reused, 0u);
  });
}

TEST(Client, FollowsRedirects) {
  in_runtime([] {
    std::vector<std::string> seen;
    fake_server other(serve([&](const seen_request& r, int, int) {
      seen.push_back("other " + r.method + " " + r.target + " auth=" + r.header("authorization").value_or("-"));
      return scripted_answer{ok("elsewhere")};
    }));
    fake_server srv(serve([&](const seen_request& r, int, int) {
      seen.push_back(r.method + " " + r.target + " body=" + r.body + " auth=" + r.header("authorization").value_or("-"));
      auto code = r.target.substr(1, 3);
      if (r.target.starts_with("/loop")) return scripted_answer{"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 3\r\n\r\nabc"};
      if (r.target == "/away") return scripted_answer{"HTTP/1.1 301 Moved\r\nLocation: " + other.url("/there") + "\r\nContent-Length: 0\r\n\r\n"};
      if (r.target.starts_with("/3")) {
        return scripted_answer{"HTTP/1.1 " + code + " R\r\nLocation: ../final?from=" + code + "\r\nContent-Length: 2\r\n\r\nxx"};
      }
      return scripted_answer{ok(r.method + ":" + r.body)};
    }));
    client c;
    for (std::string code : {"301", "302", "303"}) {
      auto r = c.post(srv.url("/" + code + "/x"), {.body = std::string("data")});
      EXPECT_EQ(r.body(), "GET:") << code;
      EXPECT_EQ(r.redirects(), 1u);
      EXPECT_EQ(r.url().target, "/final?from=" + code);
    }
    for (std::string code : {"307", "308"}) {
      auto r = c.post(srv.url("/" + code + "/x"), {.body = std::string("data")});
      EXPECT_EQ(r.body(), "POST:data") << code;
    }
    auto plain = c.get(srv.url("/302/x"), {.max_redirects = 0});
    EXPECT_EQ(plain.status_code(), 302u);
    EXPECT_EQ(plain.body(), "xx");

    auto e = expect_error([&] { c.get(srv.url("/loop"), {.max_redirects = 3}); });
    EXPECT_EQ(e.code(), make_error_code(errc::too_many_redirects));

    seen.clear();
    auto away = c.get(srv.url("/away"), {.headers = {{"Authorization", "Bearer t"}}});
    EXPECT_EQ(away.body(), "elsewhere");
    EXPECT_EQ(seen, (std::vector<std::string>{"GET /away body= auth=Bearer t", "other GET /there auth=-"}));
    EXPECT_EQ(c.stats().created, 2u);  // redirect bodies were drained, the connections kept
  });
}

TEST(Client, RetriesWithRetryAfterAndItsBound) {
  in_runtime([] {
    int gets = 0, posts = 0;
    fake_server srv(serve([&](const seen_request& r, int, int) {
      if (r.method == "POST") {
        ++posts;
        return scripted_answer{ok("busy", "Retry-After: 0\r\n", 503)};
      }
      ++gets;
      if (r.target == "/always") return scripted_answer{ok("busy", "", 502)};
      if (gets < 3) return scripted_answer{ok("busy", "Retry-After: 0\r\n", 503)};
      return scripted_answer{ok("finally")};
    }));
    client c({.retry = {.max_retries = 2, .base_delay = 1ms, .max_delay = 20ms}});
    EXPECT_EQ(c.get(srv.url("/eventually")).body(), "finally");
    EXPECT_EQ(gets, 3);
    gets = 0;
    auto r = c.get(srv.url("/always"));
    EXPECT_EQ(r.status_code(), 502u);
    EXPECT_EQ(gets, 3);  // first try and two retries
    EXPECT_EQ(c.post(srv.url("/"), {.body = std::string("x")}).status_code(), 503u);
    EXPECT_EQ(posts, 1);
  });
}

TEST(Client, ReadGapAndWholeRequestTimeouts) {
  in_runtime([] {
    fake_server srv([](net::connection& c, int) {
      net::buffered_stream in(c);
      auto req = read_request(in);
      if (!req) return;
      if (req->target == "/silent") {
        sleep_for(5s);
      } else if (req->target == "/trickle") {
        send(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
        for (int i = 0; i < 100; ++i) {
          send(c, "x");
          sleep_for(20ms);
        }
      } else if (req->target == "/stall-body") {
        send(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc");
        sleep_for(5s);
      }
    });
    client c;
    auto e = expect_error([&] { c.get(srv.url("/silent"), {.read_timeout = 100ms}); });
    EXPECT_EQ(e.code(), dusty::errc::timed_out);
    EXPECT_EQ(std::string(e.what()), "timeout after 100ms reading headers from 127.0.0.1:" + std::to_string(srv.port()));

    auto r = c.get(srv.url("/stall-body"), {.read_timeout = 100ms});
    e = expect_error([&] { r.body(); });
    EXPECT_EQ(e.code(), dusty::errc::timed_out);
    EXPECT_NE(std::string(e.what()).find("reading the body from"), std::string::npos) << e.what();

    e = expect_error([&] { c.get(srv.url("/trickle"), {.request_timeout = 300ms, .read_timeout = 1s}).body(); });
    EXPECT_EQ(e.code(), dusty::errc::timed_out);
    EXPECT_NE(std::string(e.what()).find("timeout after 300ms"), std::string::npos) << e.what();
    EXPECT_EQ(c.stats().open, 0u);
  });
}

TEST(Client, CancellingAFetchClosesItsConnectionAndFreesItsSlot) {
  in_runtime([] {
    fake_server srv([](net::connection& c, int) {
      net::buffered_stream in(c);
      while (auto req = read_request(in)) {
        if (req->target == "/silent") {
          sleep_for(5s);
          return;
        }
        send(c, ok("fine"));
      }
    });
    client c({.max_connections_per_host = 1});
    auto f = spawn([&] { c.get(srv.url("/silent")); });
    sleep_for(50ms);
    // A second fetch over the cap waits; its request timeout covers the wait for a slot.
    auto e = expect_error([&] { c.get(srv.url("/"), {.request_timeout = 100ms}); });
    EXPECT_EQ(e.code(), dusty::errc::timed_out);
    EXPECT_NE(std::string(e.what()).find("timeout after 100ms"), std::string::npos) << e.what();
    EXPECT_EQ(c.stats().open, 1u);
    f.cancel();
    EXPECT_THROW(f.join(), cancelled_error);
    EXPECT_EQ(c.stats().open, 0u);
    EXPECT_EQ(c.stats().waiting, 0u);
    EXPECT_EQ(c.get(srv.url("/")).body(), "fine");  // the slot came back
  });
}

TEST(Client, MaxResponseSize) {
  in_runtime([] {
    own_server s;
    client c({.max_response_size = 1000});
    auto e = expect_error([&] { c.get(s.url("/big")).body(); });
    EXPECT_EQ(e.code(), make_error_code(errc::response_too_large));
    EXPECT_NE(std::string(e.what()).find("response larger than 1000 bytes"), std::string::npos) << e.what();
    e = expect_error([&] {
      auto r = c.get(s.url("/chunked"), {.max_response_size = 10});
      std::array<char, 4> buf;
      while (r.read_some(buf) != 0) {
      }
    });
    EXPECT_EQ(e.code(), make_error_code(errc::response_too_large));
    auto e8 = expect_error([&] { client big; big.get(s.url("/big"), {.max_response_size = 8 * 1024 * 1024 / 32}).body(); });
    EXPECT_NE(std::string(e8.what()).find("response larger than 256 KiB"), std::string::npos) << e8.what();
    EXPECT_EQ(c.stats().open, 0u);
  });
}

TEST(Client, SkipsInterimAndReadsUntilClose) {
  in_runtime([] {
    fake_server srv(serve([](const seen_request& r, int, int) {
      if (r.target == "/old") return scripted_answer{"HTTP/1.0 200 OK\r\n\r\nto the end", true};
      return scripted_answer{"HTTP/1.1 100 Continue\r\n\r\n" + ok("after continue")};
    }));
    client c;
    EXPECT_EQ(c.get(srv.url("/")).body(), "after continue");
    auto old = c.get(srv.url("/old"));
    EXPECT_EQ(old.version(), 10u);
    EXPECT_EQ(old.body(), "to the end");
    EXPECT_EQ(c.stats().reused, 1u);  // the HTTP/1.0 answer came on the kept-alive connection
    EXPECT_EQ(c.stats().open, 0u);    // and ended it
  });
}

std::string compress(content_coding coding, std::string_view text) {
  compressor z(coding);
  std::string out;
  z.write(text, out);
  z.finish(out);
  return out;
}

TEST(Client, DecodesGzipAndDeflate) {
  in_runtime([] {
    std::string text(5000, 'q');
    std::vector<std::string> accept;
    fake_server srv(serve([&](const seen_request& r, int, int) {
      accept.push_back(r.header("accept-encoding").value_or("-"));
      if (r.target == "/gzip") return scripted_answer{ok(compress(content_coding::gzip, text), "Content-Encoding: gzip\r\n")};
      if (r.target == "/deflate") return scripted_answer{ok(compress(content_coding::deflate, text), "Content-Encoding: deflate\r\n")};
      if (r.target == "/bad") return scripted_answer{ok("not gzip at all", "Content-Encoding: gzip\r\n")};
      return scripted_answer{ok(text)};
    }));
    client c;
    EXPECT_EQ(c.get(srv.url("/gzip")).body(), text);
    EXPECT_EQ(c.get(srv.url("/deflate")).body(), text);
    auto streamed = c.get(srv.url("/gzip"));
    std::string s;
    std::array<char, 333> buf;
    while (auto n = streamed.read_some(buf)) s.append(buf.data(), n);
    EXPECT_EQ(s, text);
    auto raw = c.get(srv.url("/gzip"), {.decompress = false});
    EXPECT_EQ(raw.body(), compress(content_coding::gzip, text));
    auto e = expect_error([&] { c.get(srv.url("/bad")).body(); });
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_content_encoding));
    auto small = expect_error([&] { c.get(srv.url("/gzip"), {.max_response_size = 100}).body(); });
    EXPECT_EQ(small.code(), make_error_code(errc::response_too_large));
    EXPECT_EQ(accept[0], "gzip, deflate");
    EXPECT_EQ(accept[3], "-");
  });
}

TEST(Client, KeepsCookies) {
  in_runtime([] {
    std::vector<std::string> cookies;
    fake_server srv(serve([&](const seen_request& r, int, int) {
      cookies.push_back(r.header("cookie").value_or("-"));
      if (r.target == "/login") return scripted_answer{ok("", "Set-Cookie: sid=abc; Path=/\r\nSet-Cookie: t=1; Path=/app\r\n")};
      return scripted_answer{ok("")};
    }));
    client c({.cookies = true});
    c.get(srv.url("/login")).body();
    c.get(srv.url("/app/x")).body();
    c.get(srv.url("/")).body();
    cookie_jar mine;
    c.get(srv.url("/"), {.cookies = &mine}).body();
    client without;
    without.get(srv.url("/")).body();
    EXPECT_EQ(cookies, (std::vector<std::string>{"-", "t=1; sid=abc", "sid=abc", "-", "-"}));
  });
}

unsigned usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return ::sched_getaffinity(0, sizeof set, &set) == 0 ? static_cast<unsigned>(CPU_COUNT(&set)) : 1;
}

TEST(Client, FetchesConcurrentlyFromEveryShard) {
  const unsigned shards = usable_cpus() >= 2 ? 2 : 1;
  in_runtime(
      [shards] {
        own_server s;
        client c({.max_connections_per_host = 4});
        auto url = s.url("/hello");
        std::vector<future<std::size_t>> done;
        for (unsigned i = 0; i < shards; ++i) {
          done.push_back(submit_to(i, [&c, url] {
            std::vector<fiber> fibers;
            std::size_t ok = 0;
            for (int f = 0; f < 8; ++f) {
              fibers.push_back(spawn([&] {
                for (int k = 0; k < 10; ++k) ok += c.get(url).body() == "Hello, World!";
              }));
            }
            for (auto& f : fibers) f.join();
            auto st = c.stats();
            EXPECT_LE(st.created, 4u);
            EXPECT_EQ(st.created + st.reused, 80u);
            return ok;
          }));
        }
        std::size_t total = 0;
        for (auto& f : done) total += f.get();
        EXPECT_EQ(total, 80u * shards);
      },
      shards);
}

}  // namespace
}  // namespace dusty::http
