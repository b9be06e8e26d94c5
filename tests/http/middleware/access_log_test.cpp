#include <dusty/http/middleware/access_log.hpp>

#include <dusty/http/testing.hpp>

#include <dusty/core/error.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace dusty::http {
namespace {

namespace ht = testing;

// A server whose access log goes to `lines`.
struct logged_server {
  explicit logged_server(access_log_config config = {}) {
    config.sink = [this](std::string_view line) { lines.emplace_back(line); };
    srv.use(access_log(std::move(config)));
    srv.get("/users/:id", [](request& req, response& res) { res.json({{"id", req.param("id")}, {"name", "Ada"}}); });
    srv.get("/empty", [](request&, response& res) { res.status = 204; });
    srv.get("/stream", [](request&, response& res) {
      res.chunk("one");
      res.chunk("two");
    });
    srv.get("/teapot", [](request&, response&) { throw status_error(418, "short and stout"); });
    srv.get("/bug", [](request&, response&) { throw std::runtime_error("bug"); });
    srv.get("/late", [](request&, response&) { throw timeout_error(std::chrono::milliseconds(1)); });
    srv.get("/slow", [](request&, response& res) {
      auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(3);
      while (std::chrono::steady_clock::now() < until) {
      }
      res.body = "done";
    });
  }
  ht::server<> srv;
  std::vector<std::string> lines;
};

// The six fields of a line, or nullopt when the line does not have the documented shape.
struct fields {
  std::string remote, request, status, size, micros, user_agent;
};
std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t n = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return n;
}
std::optional<fields> parse(std::string_view line) {
  fields f;
  auto take = [&line](std::string_view until) -> std::optional<std::string> {
    auto at = line.find(until);
    if (at == std::string_view::npos) return std::nullopt;
    std::string out(line.substr(0, at));
    line.remove_prefix(at + until.size());
    return out;
  };
  auto remote = take(" \"");
  auto request = take("\" ");
  auto status = take(" ");
  auto size = take(" ");
  auto micros = take("us \"");
  if (!remote || !request || !status || !size || !micros || !line.ends_with('"')) return std::nullopt;
  if (!number(*status) || !number(*micros) || (*size != "-" && !number(*size))) return std::nullopt;
  line.remove_suffix(1);
  return fields{*remote, *request, *status, *size, *micros, std::string(line)};
}

ht::request_builder from_client(std::string_view target) {
  return ht::request_builder()
      .path(target)
      .remote_address(*net::socket_address::parse("127.0.0.1:51234"))
      .header("User-Agent", "curl/8.5.0");
}

TEST(access_log, writes_one_line_with_every_field) {
  logged_server s;
  auto r = from_client("/users/7?full=1&x=%20").call(s.srv);
  ASSERT_EQ(r.status(), 200);
  ASSERT_EQ(s.lines.size(), 1u);
  auto f = parse(s.lines[0]);
  ASSERT_TRUE(f) << s.lines[0];
  EXPECT_EQ(f->remote, "127.0.0.1:51234");
  EXPECT_EQ(f->request, "GET /users/7?full=1&x=%20 HTTP/1.1");
  EXPECT_EQ(f->status, "200");
  EXPECT_EQ(f->size, std::to_string(r.body().size()));
  EXPECT_EQ(f->user_agent, "curl/8.5.0");
  EXPECT_TRUE(s.lines[0].starts_with("127.0.0.1:51234 \"GET /users/7?full=1&x=%20 HTTP/1.1\" 200 23 ")) << s.lines[0];
}

TEST(access_log, one_line_per_request) {
  logged_server s;
  for (int i = 0; i < 5; ++i) from_client("/users/" + std::to_string(i)).call(s.srv);
  ASSERT_EQ(s.lines.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_NE(s.lines[i].find("\"GET /users/" + std::to_string(i) + " HTTP/1.1\""), std::string::npos);
  for (const auto& l : s.lines) EXPECT_EQ(l.find('\n'), std::string::npos);
}

TEST(access_log, unknown_fields_are_dashes) {
  logged_server s;
  ht::request_builder().path("/users/1").version(10).call(s.srv);
  ASSERT_EQ(s.lines.size(), 1u);
  auto f = parse(s.lines[0]);
  ASSERT_TRUE(f) << s.lines[0];
  EXPECT_EQ(f->remote, "-");
  EXPECT_EQ(f->request, "GET /users/1 HTTP/1.0");
  EXPECT_EQ(f->user_agent, "-");
}

TEST(access_log, query_can_be_left_out) {
  logged_server s({.log_query = false});
  from_client("/users/7?token=secret").call(s.srv);
  ASSERT_EQ(s.lines.size(), 1u);
  EXPECT_NE(s.lines[0].find("\"GET /users/7 HTTP/1.1\""), std::string::npos) << s.lines[0];
  EXPECT_EQ(s.lines[0].find("secret"), std::string::npos);
}

TEST(access_log, body_size_of_head_no_content_and_streams) {
  logged_server s;
  from_client("/users/7").method(method::head).call(s.srv);
  from_client("/empty").call(s.srv);
  from_client("/stream").call(s.srv);
  ASSERT_EQ(s.lines.size(), 3u);
  EXPECT_NE(s.lines[0].find("\"HEAD /users/7 HTTP/1.1\" 200 0 "), std::string::npos) << s.lines[0];
  EXPECT_NE(s.lines[1].find("\" 204 0 "), std::string::npos) << s.lines[1];
  EXPECT_NE(s.lines[2].find("\" 200 - "), std::string::npos) << s.lines[2];
}

TEST(access_log, unrouted_requests_are_logged_with_their_status) {
  logged_server s;
  from_client("/nowhere").call(s.srv);
  from_client("/users/7").method(method::delete_).call(s.srv);
  ASSERT_EQ(s.lines.size(), 2u);
  EXPECT_NE(s.lines[0].find("\"GET /nowhere HTTP/1.1\" 404 9 "), std::string::npos) << s.lines[0];
  EXPECT_NE(s.lines[1].find("\"DELETE /users/7 HTTP/1.1\" 405 18 "), std::string::npos) << s.lines[1];
}

TEST(access_log, failing_handlers_are_logged_and_still_reach_the_error_handler) {
  logged_server s;
  auto teapot = from_client("/teapot").call(s.srv);
  auto bug = from_client("/bug").call(s.srv);
  auto late = from_client("/late").call(s.srv);
  EXPECT_EQ(teapot.status(), 418);
  EXPECT_EQ(teapot.body(), "short and stout");
  EXPECT_EQ(bug.status(), 500);
  EXPECT_TRUE(bug.exception());
  EXPECT_EQ(late.status(), 503);
  ASSERT_EQ(s.lines.size(), 3u);
  EXPECT_NE(s.lines[0].find("\"GET /teapot HTTP/1.1\" 418 - "), std::string::npos) << s.lines[0];
  EXPECT_NE(s.lines[1].find("\"GET /bug HTTP/1.1\" 500 - "), std::string::npos) << s.lines[1];
  EXPECT_NE(s.lines[2].find("\"GET /late HTTP/1.1\" 503 - "), std::string::npos) << s.lines[2];
}

TEST(access_log, a_client_that_leaves_is_499_unless_the_head_was_sent) {
  ht::server<> srv;
  std::vector<std::string> lines;
  srv.use(access_log({.sink = [&](std::string_view l) { lines.emplace_back(l); }}));
  srv.get("/gone", [](request&, response&) { throw client_gone("peer reset"); });
  srv.get("/events", [](request&, response& res) {
    auto events = res.start_event_stream();
    for (;;) events.send("tick");
  });
  auto gone = from_client("/gone").call(srv);
  auto events = from_client("/events").disconnect_after(2).call(srv);
  EXPECT_TRUE(gone.client_gone());
  EXPECT_TRUE(events.client_gone());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("\" 499 - "), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("\" 200 - "), std::string::npos) << lines[1];
}

TEST(access_log, duration_covers_the_handler) {
  logged_server s;
  from_client("/slow").call(s.srv);
  ASSERT_EQ(s.lines.size(), 1u);
  auto f = parse(s.lines[0]);
  ASSERT_TRUE(f) << s.lines[0];
  EXPECT_GE(*number(f->micros), 3000u);
  EXPECT_LT(*number(f->micros), 3'000'000u);
}

TEST(access_log, quoted_fields_are_escaped) {
  logged_server s;
  ht::request_builder()
      .path("/users/1")
      .header("User-Agent", "evil\" 200 0 0us \"x\\y\x01\xc3\xa9\x7f")
      .call(s.srv);
  ASSERT_EQ(s.lines.size(), 1u);
  EXPECT_TRUE(s.lines[0].ends_with(R"("evil\" 200 0 0us \"x\\y\x01\xc3\xa9\x7f")")) << s.lines[0];
  auto f = parse(s.lines[0]);
  ASSERT_TRUE(f) << s.lines[0];
  EXPECT_EQ(f->status, "200");
  EXPECT_NE(f->size, "0");
}

TEST(access_log, other_methods_use_their_token) {
  logged_server s;
  from_client("/users/1").method("PROPFIND").call(s.srv);
  ASSERT_EQ(s.lines.size(), 1u);
  EXPECT_NE(s.lines[0].find("\"PROPFIND /users/1 HTTP/1.1\" 405 "), std::string::npos) << s.lines[0];
}

TEST(access_log, a_throwing_sink_does_not_fail_the_request) {
  ht::server<> srv;
  srv.use(access_log({.sink = [](std::string_view) { throw std::runtime_error("disk full"); }}));
  srv.get("/", [](request&, response& res) { res.body = "ok"; });
  srv.get("/bad", [](request&, response&) { throw status_error(409, "conflict"); });
  auto ok = ht::request_builder().call(srv);
  EXPECT_EQ(ok.status(), 200);
  EXPECT_EQ(ok.body(), "ok");
  EXPECT_FALSE(ok.exception());
  auto bad = ht::request_builder().path("/bad").call(srv);
  EXPECT_EQ(bad.status(), 409);  // the handler's exception, not the sink's
}

// Without a sink every line goes to stderr with its newline, in one write.
TEST(access_log, default_sink_writes_lines_to_stderr) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  int saved = ::dup(STDERR_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_GE(::dup2(fds[1], STDERR_FILENO), 0);
  ::close(fds[1]);

  ht::server<> srv;
  srv.use(access_log());
  srv.get("/", [](request&, response& res) { res.body = "hello"; });
  ht::request_builder().header("User-Agent", "t").call(srv);
  ht::request_builder().path("/?second").call(srv);

  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::string out;
  char buf[4096];
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  auto nl = out.find('\n');
  ASSERT_NE(nl, std::string::npos) << out;
  ASSERT_TRUE(out.ends_with('\n')) << out;
  auto first = parse(std::string_view(out).substr(0, nl));
  auto second = parse(std::string_view(out).substr(nl + 1, out.size() - nl - 2));
  ASSERT_TRUE(first && second) << out;
  EXPECT_EQ(first->request, "GET / HTTP/1.1");
  EXPECT_EQ(first->size, "5");
  EXPECT_EQ(first->user_agent, "t");
  EXPECT_EQ(second->request, "GET /?second HTTP/1.1");
  EXPECT_EQ(second->user_agent, "-");
}

}  // namespace
}  // namespace dusty::http
