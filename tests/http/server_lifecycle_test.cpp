// Starting, listening and stopping: Unix sockets, several servers in one process, a
// port reused after stop, graceful shutdown (in-flight requests finish, idle connections
// close, new ones are refused), and apps/hello as a real process ended by SIGTERM (its
// WebSocket sessions told 1001).
#include <dusty/http/server.hpp>

#include "http/server_support.hpp"
#include "http/ws/ws_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace dusty::http::server_test;
namespace http = dusty::http;
namespace net = dusty::net;

void body_route(http::server<>& srv, std::string body) {
  srv.get("/", [body](http::request&, http::response& res) { res.body = body; });
}

TEST(lifecycle, listens_on_a_unix_socket) {
  temp_dir dir;
  auto config = local_config();
  config.unix_path = dir.path("http.sock");
  live_server<> srv(
      [](http::server<>& s) {
        s.get("/", [](http::request& req, http::response& res) {
          res.body = req.remote_address() ? "unix " + req.remote_address()->to_string() : "no address";
        });
      },
      config, two_shards());
  EXPECT_TRUE(srv.address().is_unix());
  EXPECT_TRUE(std::filesystem::exists(config.unix_path));
  for (int i = 0; i < 4; ++i) {
    auto c = raw_client::unix_socket(config.unix_path);
    c.send(get_request("/") + get_request("/"));
    for (int k = 0; k < 2; ++k) {
      auto r = c.read_response();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200u);
      EXPECT_EQ(r->body.rfind("unix", 0), 0u) << r->body;
    }
  }
}

TEST(lifecycle, two_servers_in_one_process) {
  runtime_thread rt(two_shards());
  std::unique_ptr<http::server<>> a, b;
  rt.call([&] {
    a = std::make_unique<http::server<>>(local_config());
    body_route(*a, "server a");
    a->start();
    b = std::make_unique<http::server<>>(local_config());
    body_route(*b, "server b");
    b->start();
  });
  auto port_a = a->address().port(), port_b = b->address().port();
  EXPECT_NE(port_a, port_b);
  for (int i = 0; i < 4; ++i) {
    auto ra = get_once(port_a, "/");
    auto rb = get_once(port_b, "/");
    ASSERT_TRUE(ra && rb);
    EXPECT_EQ(ra->body, "server a");
    EXPECT_EQ(rb->body, "server b");
  }
  // Stopping one leaves the other serving.
  rt.call([&] { a->stop(); });
  EXPECT_EQ(raw_client::connect_error(port_a), ECONNREFUSED);
  auto rb = get_once(port_b, "/");
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->body, "server b");
  rt.call([&] {
    a.reset();
    b.reset();
  });
}

TEST(lifecycle, stop_then_start_a_new_server_on_the_same_port) {
  runtime_thread rt(two_shards());
  std::unique_ptr<http::server<>> srv;
  std::uint16_t port = 0;
  rt.call([&] {
    srv = std::make_unique<http::server<>>(local_config());
    body_route(*srv, "first");
    srv->start();
    port = srv->address().port();
  });
  // A connection left open and idle must not keep the port (or the stop) hanging.
  auto idle = raw_client::tcp(port);
  idle.send(get_request("/"));
  auto r1 = idle.read_response();
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->body, "first");

  rt.call([&] {
    srv->stop();
    srv.reset();
  });
  EXPECT_TRUE(idle.wait_closed());
  EXPECT_EQ(raw_client::connect_error(port), ECONNREFUSED);

  rt.call([&] {
    auto config = local_config();
    config.port = port;
    srv = std::make_unique<http::server<>>(config);
    body_route(*srv, "second");
    srv->start();
  });
  for (int i = 0; i < 4; ++i) {
    auto r2 = get_once(port, "/");
    ASSERT_TRUE(r2);
    EXPECT_EQ(r2->body, "second");
  }
  rt.call([&] { srv.reset(); });
}

TEST(lifecycle, bind_failure_is_reported) {
  // A port some other socket holds without SO_REUSEPORT.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  runtime_thread rt(1);
  auto config = local_config();
  config.port = ntohs(a.sin_port);
  EXPECT_THROW(rt.call([&] {
    http::server<> srv(config);
    srv.start();
  }),
               std::system_error);
  ::close(fd);
}

struct shutdown_state {
  flag slow_entered;
  flag release_slow;
};

TEST(graceful_shutdown, in_flight_finishes_idle_closes_new_are_refused) {
  shutdown_state st;
  auto config = local_config();
  config.timeouts.drain = 20s;
  live_server<> srv(
      [&st](http::server<>& s) {
        s.get("/", [](http::request&, http::response& res) { res.body = "ok"; });
        s.get("/slow", [&st](http::request&, http::response& res) {
          st.slow_entered.set();
          // Waits (without blocking the shard) until the test has seen the idle
          // connections close and new ones refused.
          for (int i = 0; i < 2000 && !st.release_slow.is_set(); ++i) dusty::sleep_for(5ms);
          res.body = std::string(100'000, 's');
        });
      },
      config, two_shards());

  std::vector<raw_client> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(srv.connect());
    idle.back().send(get_request("/"));
    ASSERT_TRUE(idle.back().read_response());
  }
  auto busy = srv.connect();
  busy.send(get_request("/slow"));
  ASSERT_TRUE(st.slow_entered.wait());

  auto start = clock_type::now();
  auto stopped = srv.stop_async();
  for (auto& c : idle) {
    std::string extra;
    EXPECT_TRUE(c.wait_closed(5s, &extra));
    EXPECT_EQ(extra, "");
  }
  EXPECT_LT(clock_type::now() - start, 2s) << "idle connections were not closed promptly";
  // Every listener is closed once its shard has begun to stop; allow the other shard a
  // moment to get there, bounded.
  int refused = 0;
  for (int i = 0; i < 200 && refused == 0; ++i) refused = raw_client::connect_error(srv.port()) == ECONNREFUSED;
  EXPECT_TRUE(refused) << "new connections still accepted while stopping";
  EXPECT_NE(stopped.wait_for(0s), std::future_status::ready) << "stop() did not wait for the request in flight";

  st.release_slow.set();
  auto r = busy.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body.size(), 100'000u);
  EXPECT_TRUE(r->closes());
  EXPECT_TRUE(busy.wait_closed());
  finish(stopped, 10s);
  EXPECT_EQ(raw_client::connect_error(srv.port()), ECONNREFUSED);
}

TEST(graceful_shutdown, drain_deadline_cuts_requests_that_take_too_long) {
  auto config = local_config();
  config.timeouts.drain = 300ms;
  flag entered;
  live_server<> srv(
      [&entered](http::server<>& s) {
        s.get("/forever", [&entered](http::request&, http::response& res) {
          entered.set();
          dusty::sleep_for(1h);
          res.body = "never";
        });
      },
      config);
  auto c = srv.connect();
  c.send(get_request("/forever"));
  ASSERT_TRUE(entered.wait());
  auto start = clock_type::now();
  auto stopped = srv.stop_async();
  finish(stopped, 10s);
  auto took = clock_type::now() - start;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 5s);
  std::string extra;
  EXPECT_TRUE(c.wait_closed(5s, &extra));
  EXPECT_EQ(extra, "");
}

// apps/hello as a user runs it.
std::string hello_binary() { return (binary_dir() / "apps/hello/dusty-hello").string(); }

struct hello_process {
  net::testing::child proc;
  std::uint16_t port = 0;
  std::string banner;

  hello_process() : proc({hello_binary(), "--port", "0", "--address", "127.0.0.1", "--shards", std::to_string(two_shards())}) {
    auto line = net::testing::read_line(proc.stdout_fd(), clock_type::now() + 30s);
    if (!line) {
      ADD_FAILURE() << "no banner; stderr: " << net::testing::read_all(proc.stderr_fd(), clock_type::now() + 1s);
      return;
    }
    banner = *line;
    // "dusty-hello serving http://127.0.0.1:PORT/ (N shards, BACKEND)"
    const std::string prefix = "dusty-hello serving http://127.0.0.1:";
    if (banner.rfind(prefix, 0) != 0) {
      ADD_FAILURE() << "unexpected banner: " << banner;
      return;
    }
    port = static_cast<std::uint16_t>(std::stoul(banner.substr(prefix.size())));
  }
};

TEST(hello_app, serves_its_routes) {
  ASSERT_TRUE(std::filesystem::exists(hello_binary())) << hello_binary() << " is missing: build dusty-hello";
  hello_process app;
  ASSERT_NE(app.port, 0) << app.banner;
  std::string shards = std::to_string(two_shards());
  EXPECT_NE(app.banner.find("(" + shards + " shards, "), std::string::npos) << app.banner;
  if (const char* forced = std::getenv("DUSTY_BACKEND")) {
    EXPECT_NE(app.banner.find(forced), std::string::npos) << app.banner;
  }

  auto c = raw_client::tcp(app.port);
  c.send(get_request("/") + get_request("/plaintext") + get_request("/json") + get_request("/user/42"));
  auto root = c.read_response(), plain = c.read_response(), json = c.read_response(), user = c.read_response();
  ASSERT_TRUE(root && plain && json && user);
  EXPECT_EQ(root->body, "Hello, World!");
  EXPECT_EQ(plain->body, "Hello, World!");
  EXPECT_EQ(plain->header("content-type"), "text/plain");
  EXPECT_EQ(json->header("content-type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(json->body), nlohmann::json({{"message", "Hello, World!"}}));
  EXPECT_EQ(nlohmann::json::parse(user->body), nlohmann::json({{"id", "42"}, {"name", "John Doe"}}));

  // The benchmark routes: a 1 MiB answer, and uploads counted as they stream in.
  std::string upload = pattern(64 * 1024);
  c.send(get_request("/bytes/1m") +
         "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 65536\r\n\r\n" + upload +
         "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(upload, 1000));
  auto bytes = c.read_response(), sized = c.read_response(), streamed = c.read_response();
  ASSERT_TRUE(bytes && sized && streamed);
  EXPECT_EQ(bytes->body.size(), 1024u * 1024u);
  EXPECT_EQ(sized->body, "65536");
  EXPECT_EQ(streamed->body, "65536");

  app.proc.signal(SIGINT);
  EXPECT_EQ(app.proc.wait(10s), 0);
}

TEST(hello_app, sigterm_during_an_event_stream_exits_0_quickly) {
  ASSERT_TRUE(std::filesystem::exists(hello_binary())) << hello_binary() << " is missing: build dusty-hello";
  hello_process app;
  ASSERT_NE(app.port, 0) << app.banner;
  auto idle = raw_client::tcp(app.port);
  idle.send(get_request("/"));
  ASSERT_TRUE(idle.read_response());

  auto sse = raw_client::tcp(app.port);
  sse.send(get_request("/events"));
  // Wait for the first event, so the stream is open for sure.
  auto until = clock_type::now() + io_limit;
  while (sse.buffered().find("data: tick 1") == std::string::npos)
    ASSERT_EQ(sse.fill(until), raw_client::fill_result::data) << sse.buffered();

  auto start = clock_type::now();
  app.proc.signal(SIGTERM);
  EXPECT_TRUE(idle.wait_closed(5s));
  // The stream in flight is allowed to finish: it arrives complete, then the connection ends.
  auto r = sse.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_NE(r->body.find("data: tick 5"), std::string::npos) << r->body;
  EXPECT_TRUE(sse.wait_closed(5s));
  EXPECT_EQ(app.proc.wait(10s), 0);
  EXPECT_LT(clock_type::now() - start, 3s);
}

// dusty-hello's WebSocket routes: /ws echoes, /broadcast reaches every session of the room
// on both shards; SIGTERM tells every open session 1001 and the process still exits 0
// at once when the peers answer.
TEST(hello_app, websocket_echo_broadcast_and_1001_on_sigterm) {
  namespace ws = dusty::http::ws;
  ASSERT_TRUE(std::filesystem::exists(hello_binary())) << hello_binary() << " is missing: build dusty-hello";
  hello_process app;
  ASSERT_NE(app.port, 0) << app.banner;
  std::vector<raw_client> clients;
  clients.reserve(5);  // each reader holds a reference to its client
  std::vector<std::unique_ptr<frame_reader>> readers;
  for (const char* path : {"/ws", "/broadcast", "/broadcast", "/broadcast", "/broadcast"}) {
    clients.push_back(raw_client::tcp(app.port));
    open(clients.back(), path);
    readers.push_back(std::make_unique<frame_reader>(clients.back()));
  }
  clients[0].send(client_frame(ws::opcode::binary, "echo me"));
  auto e = readers[0]->next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, ws::opcode::binary);
  EXPECT_EQ(e->payload, "echo me");
  // A pong comes from receive(), which each handler reaches after subscribing: once all
  // four have answered, all four are in the room.
  for (int i = 1; i < 5; ++i) {
    clients[i].send(client_frame(ws::opcode::ping, "in?"));
    e = readers[i]->next();
    ASSERT_TRUE(e);
    ASSERT_EQ(e->kind, ws::event_kind::pong);
  }
  clients[2].send(client_frame(ws::opcode::text, "hello, room"));
  for (int i = 1; i < 5; ++i) {
    e = readers[i]->next();
    ASSERT_TRUE(e) << i;
    EXPECT_EQ(e->kind, ws::event_kind::message);
    EXPECT_EQ(e->payload, "hello, room") << i;
  }

  auto start = clock_type::now();
  app.proc.signal(SIGTERM);
  for (int i = 0; i < 5; ++i) {
    e = readers[i]->next(5s);
    ASSERT_TRUE(e) << i;
    EXPECT_EQ(e->kind, ws::event_kind::close) << i;
    EXPECT_EQ(e->code, ws::close_code::going_away) << i;
    clients[i].send(client_frame(ws::opcode::close, ws::close_payload(ws::close_code::going_away, "")));
    EXPECT_TRUE(clients[i].wait_closed(5s)) << i;
  }
  EXPECT_EQ(app.proc.wait(10s), 0);
  EXPECT_LT(clock_type::now() - start, 5s) << "the sessions waited for the drain deadline";
}

}  // namespace
