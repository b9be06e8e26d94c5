// dusty-fetch (apps/fetch): its flag parsing and exit statuses directly, then the built
// binary run against a dusty server on loopback.
#include "apps/fetch/fetch_flags.hpp"
#include "apps/fetch/exit_status.hpp"
#include "apps/fetch/progress.hpp"

#include "http/peer_support.hpp"
#include "http/server_support.hpp"
#include "net/tls/tls_test_util.hpp"

#include <dusty/core/fiber.hpp>
#include <dusty/http/server.hpp>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <thread>
#include <string>
#include <vector>

namespace dusty::http {
namespace {

using namespace std::chrono_literals;
namespace fetch = apps::fetch;
using server_test::program_result;

// ---------------------------------------------------------------------------------------
// Flags

std::optional<std::string> parse(std::vector<const char*> args, fetch::fetch_flags& f) {
  args.insert(args.begin(), "dusty-fetch");
  return fetch::parse_fetch_flags(static_cast<int>(args.size()), args.data(), f);
}

TEST(FetchFlags, CurlSpellings) {
  fetch::fetch_flags f;
  ASSERT_EQ(parse({"-XPUT", "-H", "X-A: 1", "--header=X-B:  two ", "-H", "X-Empty;", "-d", "a=1", "-o", "out", "-L",
                   "--max-redirs", "4", "-i", "-v", "--compressed", "--timeout=1.5", "--connect-timeout", "2",
                   "--retry", "3", "--max-filesize", "1000", "-f", "http://x/"},
                  f),
            std::nullopt);
  EXPECT_EQ(f.url, "http://x/");
  EXPECT_EQ(f.method, "PUT");
  ASSERT_EQ(f.headers.size(), 3u);
  EXPECT_EQ(f.headers[0], (std::pair<std::string, std::string>{"X-A", "1"}));
  EXPECT_EQ(f.headers[1], (std::pair<std::string, std::string>{"X-B", "two"}));
  EXPECT_EQ(f.headers[2], (std::pair<std::string, std::string>{"X-Empty", ""}));
  ASSERT_TRUE(f.body);
  EXPECT_EQ(f.body->value, "a=1");
  EXPECT_EQ(f.body->content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(f.output, "out");
  EXPECT_TRUE(f.follow && f.include && f.verbose && f.compressed && f.fail);
  EXPECT_EQ(f.max_redirs, 4u);
  EXPECT_EQ(f.timeout, 1500ms);
  EXPECT_EQ(f.connect_timeout, 2000ms);
  EXPECT_EQ(f.retry, 3u);
  EXPECT_EQ(f.max_filesize, 1000u);
  EXPECT_EQ(fetch::method_of(f), method::put);
}

TEST(FetchFlags, BundledSwitchesAndDefaults) {
  fetch::fetch_flags f;
  ASSERT_EQ(parse({"-sSLiofile.bin", "http://x/"}, f), std::nullopt);
  EXPECT_TRUE(f.silent && f.follow && f.include);
  EXPECT_EQ(f.output, "file.bin");
  EXPECT_EQ(fetch::method_of(f), method::get);

  fetch::fetch_flags j;
  ASSERT_EQ(parse({"--json", "@body.json", "--", "-not-a-flag"}, j), std::nullopt);
  EXPECT_EQ(j.url, "-not-a-flag");
  ASSERT_TRUE(j.body);
  EXPECT_EQ(j.body->source, fetch::body_flag::from::file);
  EXPECT_EQ(j.body->value, "body.json");
  EXPECT_TRUE(j.body->json);
  EXPECT_EQ(fetch::method_of(j), method::post);

  fetch::fetch_flags h;
  ASSERT_EQ(parse({"-I", "http://x/"}, h), std::nullopt);
  EXPECT_EQ(fetch::method_of(h), method::head);
  EXPECT_TRUE(h.include);

  fetch::fetch_flags help;
  ASSERT_EQ(parse({"--help"}, help), std::nullopt);
  EXPECT_TRUE(help.help);
}

TEST(FetchFlags, ErrorsSayWhatIsWrong) {
  auto error = [](std::vector<const char*> args) {
    fetch::fetch_flags f;
    return parse(std::move(args), f).value_or("");
  };
  EXPECT_NE(error({}).find("no URL"), std::string::npos);
  EXPECT_NE(error({"http://a/", "http://b/"}).find("more than one URL"), std::string::npos);
  EXPECT_NE(error({"--bogus", "http://a/"}).find("unknown flag --bogus"), std::string::npos);
  EXPECT_NE(error({"-H", "no colon", "http://a/"}).find("-H"), std::string::npos);
  EXPECT_NE(error({"-H", "Bad Name: x", "http://a/"}).find("not a header field name"), std::string::npos);
  EXPECT_NE(error({"--timeout", "soon", "http://a/"}).find("--timeout"), std::string::npos);
  EXPECT_NE(error({"--timeout", "0", "http://a/"}).find("--timeout"), std::string::npos);
  EXPECT_NE(error({"-d", "a", "--json", "{}", "http://a/"}).find("only one of"), std::string::npos);
  EXPECT_NE(error({"-X", "GE T", "http://a/"}).find("method token"), std::string::npos);
  EXPECT_NE(error({"http://a/", "-o"}).find("missing value"), std::string::npos);
  EXPECT_NE(error({"-I", "-d", "x", "http://a/"}).find("HEAD"), std::string::npos);
}

TEST(FetchFlags, TlsFlags) {
  fetch::fetch_flags f;
  ASSERT_EQ(parse({"-sk", "--cacert", "ca.pem", "--cert=c.pem", "--key", "c.key", "https://x/"}, f), std::nullopt);
  EXPECT_TRUE(f.silent && f.insecure);
  EXPECT_EQ(f.cacert, "ca.pem");
  EXPECT_EQ(f.cert, "c.pem");
  EXPECT_EQ(f.key, "c.key");
  fetch::fetch_flags g;
  ASSERT_EQ(parse({"--insecure", "https://x/"}, g), std::nullopt);
  EXPECT_TRUE(g.insecure);
  EXPECT_FALSE(g.cacert);
  fetch::fetch_flags h;
  auto e = parse({"--cert", "c.pem", "https://x/"}, h);
  ASSERT_TRUE(e);
  EXPECT_NE(e->find("--cert and --key go together"), std::string::npos) << *e;
  fetch::fetch_flags k;
  e = parse({"--cacert", "https://x/"}, k);  // the URL is taken as the file: no URL left
  ASSERT_TRUE(e);
}

TEST(FetchExitStatus, CurlNumbers) {
  EXPECT_EQ(fetch::exit_status_for(dusty::errc::timed_out), 28);
  EXPECT_EQ(fetch::exit_status_for(net::errc::host_not_found), 6);
  EXPECT_EQ(fetch::exit_status_for(std::make_error_code(std::errc::connection_refused)), 7);
  EXPECT_EQ(fetch::exit_status_for(errc::invalid_url), 3);
  EXPECT_EQ(fetch::exit_status_for(errc::unsupported_scheme), 1);
  EXPECT_EQ(fetch::exit_status_for(errc::invalid_response), 8);
  EXPECT_EQ(fetch::exit_status_for(errc::too_many_redirects), 47);
  EXPECT_EQ(fetch::exit_status_for(errc::response_too_large), 63);
  EXPECT_EQ(fetch::exit_status_for(errc::invalid_content_encoding), 61);
  EXPECT_EQ(fetch::exit_status_for(dusty::errc::eof), 56);
  EXPECT_EQ(fetch::exit_status_for(net::errc::tls_handshake_failed), 35);
  EXPECT_EQ(fetch::exit_status_for(net::errc::tls_certificate_invalid), 60);
  EXPECT_EQ(fetch::exit_status_for(net::errc::tls_host_name_mismatch), 60);
  EXPECT_EQ(fetch::exit_status_for(net::errc::tls_truncated), 56);
  EXPECT_EQ(fetch::exit_status_for(net::errc::tls_protocol_error), 56);
}

TEST(FetchProgress, Lines) {
  EXPECT_EQ(fetch::human_bytes(512), "512 B");
  EXPECT_EQ(fetch::human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(fetch::human_bytes(20.0 * 1024 * 1024), "20.0 MiB");
  auto t0 = std::chrono::steady_clock::time_point{};
  fetch::progress_meter known(4 * 1024 * 1024, t0);
  known.add(1024 * 1024);
  EXPECT_EQ(known.line(t0 + 1s), "1.0 MiB of 4.0 MiB  25%  1.0 MiB/s");
  fetch::progress_meter unknown(std::nullopt, t0);
  unknown.add(2048);
  EXPECT_EQ(unknown.line(t0 + 2s), "2.0 KiB  1.0 KiB/s");
}

// ---------------------------------------------------------------------------------------
// The binary

std::string fetch_binary() { return (server_test::binary_dir() / "apps/fetch/dusty-fetch").string(); }

/// Requests /slow has received (the interrupt test waits for one).
std::atomic<int> slow_requests{0};

void routes(server<>& s) {
  s.get("/hello", [](request&, response& res) {
    res.content_type("text/plain");
    res.body = "Hello, World!";
  });
  s.get("/redirect", [](request&, response& res) {
    res.status = 302;
    res.header("Location", "/hello");
    res.body = "moving";
  });
  s.get("/big", [](request&, response& res) { res.body = server_test::pattern(300'000); });
  s.get("/slow", [](request&, response& res) {
    slow_requests.fetch_add(1);
    dusty::sleep_for(1s);
    res.body = "late";
  });
  s.get("/headers", [](request& req, response& res) {
    res.json({{"user_agent", req.header("User-Agent").value_or("")}, {"x_custom", req.header("X-Custom").value_or("")}});
  });
  auto echo = [](request& req, response& res) {
    res.json({{"method", std::string(to_string(req.method()))},
               {"content_type", req.header("Content-Type").value_or("")},
               {"accept", req.header("Accept").value_or("")},
               {"body", req.body()}});
  };
  s.post("/echo", echo);
  s.put("/echo", echo);
}

class FetchApp : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(fetch_binary())) FAIL() << fetch_binary() << " is missing: build the dusty-fetch target";
  }
  program_result fetch(std::vector<std::string> args) {
    args.insert(args.begin(), fetch_binary());
    return server_test::run_program(args, 20s);
  }

  server_test::live_server<> srv_{routes};
  server_test::temp_dir dir_;
};

TEST_F(FetchApp, BodyToStdout) {
  auto r = fetch({srv_.url("/hello")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "Hello, World!");
  EXPECT_EQ(r.err, "");
}

TEST_F(FetchApp, UrlWithoutSchemeIsHttp) {
  auto r = fetch({"127.0.0.1:" + std::to_string(srv_.port()) + "/hello"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "Hello, World!");
}

TEST_F(FetchApp, OutputFile) {
  auto path = dir_.path("big.bin");
  auto r = fetch({"-o", path, srv_.url("/big")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(peer_test::read_file(path) == server_test::pattern(300'000));
  // stderr is a pipe here, not a terminal: no progress meter.
  EXPECT_EQ(r.err, "");
}

TEST_F(FetchApp, IncludeWritesTheHeadFirst) {
  auto r = fetch({"-i", srv_.url("/hello")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("HTTP/1.1 200 OK\r\n")) << r.out;
  auto end = r.out.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << r.out;
  EXPECT_NE(server_test::lower(r.out.substr(0, end)).find("content-type: text/plain"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(end + 4), "Hello, World!");

  auto head = fetch({"-I", srv_.url("/hello")});
  EXPECT_EQ(head.status, 0) << head.err;
  EXPECT_TRUE(head.out.starts_with("HTTP/1.1 200 OK\r\n")) << head.out;
  EXPECT_TRUE(head.out.ends_with("\r\n\r\n")) << head.out;
}

TEST_F(FetchApp, VerboseHeadsOnStderr) {
  auto r = fetch({"-v", "-H", "X-Custom: 42", srv_.url("/headers")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("> GET /headers HTTP/1.1\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("> Host: 127.0.0.1:" + std::to_string(srv_.port()) + "\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("> X-Custom: 42\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("< HTTP/1.1 200 OK\n"), std::string::npos) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["x_custom"], "42");
  EXPECT_TRUE(j["user_agent"].get<std::string>().starts_with("dusty-fetch/")) << j.dump();

  auto a = fetch({"-A", "agent/1", srv_.url("/headers")});
  EXPECT_EQ(nlohmann::json::parse(a.out)["user_agent"], "agent/1");
}

TEST_F(FetchApp, RedirectsFollowedOnlyWithL) {
  auto plain = fetch({"-i", srv_.url("/redirect")});
  EXPECT_EQ(plain.status, 0) << plain.err;
  EXPECT_TRUE(plain.out.starts_with("HTTP/1.1 302 ")) << plain.out;
  EXPECT_TRUE(plain.out.ends_with("\r\n\r\nmoving")) << plain.out;

  auto followed = fetch({"-L", srv_.url("/redirect")});
  EXPECT_EQ(followed.status, 0) << followed.err;
  EXPECT_EQ(followed.out, "Hello, World!");

  auto capped = fetch({"-L", "--max-redirs", "0", srv_.url("/redirect")});
  EXPECT_EQ(capped.status, fetch::exit_too_many_redirects) << capped.err;
}

TEST_F(FetchApp, FailExits22OnHttpErrors) {
  auto r = fetch({"--fail", srv_.url("/missing")});
  EXPECT_EQ(r.status, 22);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("404"), std::string::npos) << r.err;

  auto without = fetch({srv_.url("/missing")});
  EXPECT_EQ(without.status, 0) << without.err;
}

TEST_F(FetchApp, BadUrls) {
  auto r = fetch({"http://exa mple/"});
  EXPECT_EQ(r.status, 3);
  EXPECT_TRUE(r.err.starts_with("dusty-fetch: bad URL")) << r.err;
  auto port = fetch({"http://127.0.0.1:99999/"});
  EXPECT_EQ(port.status, 3) << port.err;
  auto scheme = fetch({"ftp://127.0.0.1/"});
  EXPECT_EQ(scheme.status, 1) << scheme.err;
  EXPECT_TRUE(scheme.err.starts_with("dusty-fetch: ")) << scheme.err;
}

TEST_F(FetchApp, ConnectRefused) {
  auto port = std::to_string(peer_test::free_port());
  auto r = fetch({"http://127.0.0.1:" + port + "/"});
  EXPECT_EQ(r.status, 7) << r.err;
  EXPECT_NE(r.err.find("dusty-fetch: connect refused: 127.0.0.1:" + port), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(FetchApp, Timeout) {
  auto r = fetch({"--timeout", "0.3", srv_.url("/slow")});
  EXPECT_EQ(r.status, 28) << r.err;
  EXPECT_NE(r.err.find("timeout"), std::string::npos) << r.err;
}

TEST_F(FetchApp, InterruptExits130) {
  int before = slow_requests.load();
  net::testing::child c({fetch_binary(), srv_.url("/slow")});
  ASSERT_TRUE(c.started());
  auto until = server_test::clock_type::now() + 10s;
  while (slow_requests.load() == before && server_test::clock_type::now() < until) std::this_thread::sleep_for(5ms);
  ASSERT_GT(slow_requests.load(), before) << "the request never arrived";
  c.signal(SIGINT);
  EXPECT_EQ(c.wait(10s), 130);
  auto err = net::testing::read_all(c.stderr_fd(), server_test::clock_type::now() + 5s);
  EXPECT_NE(err.find("dusty-fetch: interrupted"), std::string::npos) << err;
}

TEST_F(FetchApp, JsonAndDataBodies) {
  auto j = fetch({"--json", R"({"a":1})", srv_.url("/echo")});
  ASSERT_EQ(j.status, 0) << j.err;
  auto jr = nlohmann::json::parse(j.out);
  EXPECT_EQ(jr["method"], "POST");
  EXPECT_EQ(jr["content_type"], "application/json");
  EXPECT_EQ(jr["accept"], "application/json");
  EXPECT_EQ(jr["body"], R"({"a":1})");

  auto d = fetch({"-X", "PUT", "-d", "a=1&b=2", srv_.url("/echo")});
  ASSERT_EQ(d.status, 0) << d.err;
  auto dr = nlohmann::json::parse(d.out);
  EXPECT_EQ(dr["method"], "PUT");
  EXPECT_EQ(dr["content_type"], "application/x-www-form-urlencoded");
  EXPECT_EQ(dr["body"], "a=1&b=2");

  auto file = dir_.write("body.txt", "line1\nline2\n");
  auto raw = fetch({"--data-binary", "@" + file, "-H", "Content-Type: text/plain", srv_.url("/echo")});
  ASSERT_EQ(raw.status, 0) << raw.err;
  auto rr = nlohmann::json::parse(raw.out);
  EXPECT_EQ(rr["body"], "line1\nline2\n");
  EXPECT_EQ(rr["content_type"], "text/plain");
  auto stripped = fetch({"-d", "@" + file, srv_.url("/echo")});
  EXPECT_EQ(nlohmann::json::parse(stripped.out)["body"], "line1line2");

  auto missing = fetch({"--data-binary", "@" + dir_.path("nope"), srv_.url("/echo")});
  EXPECT_EQ(missing.status, 26);
  EXPECT_NE(missing.err.find("cannot read"), std::string::npos) << missing.err;
}

TEST_F(FetchApp, UsageErrorsAndHelp) {
  auto none = fetch({});
  EXPECT_EQ(none.status, 2);
  EXPECT_NE(none.err.find("no URL"), std::string::npos) << none.err;
  auto bogus = fetch({"--bogus", srv_.url("/hello")});
  EXPECT_EQ(bogus.status, 2);
  EXPECT_NE(bogus.err.find("unknown flag --bogus"), std::string::npos) << bogus.err;
  auto help = fetch({"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("usage: dusty-fetch"), std::string::npos);
  EXPECT_NE(help.out.find("  28 timeout"), std::string::npos);
}

// ---------------------------------------------------------------------------------------
// HTTPS, against nginx with certificates made at test time

class FetchAppTls : public FetchApp {
 protected:
  static void SetUpTestSuite() {
    if (!peer_test::nginx_peer::available()) return;
    auto make = [](const std::string& name) {
      auto p = std::make_unique<peer_test::nginx_peer>();
      p->add_file("hello.txt", "Hello, TLS!");
      if (!p->start_tls(net::testing::cert(name), net::testing::cert(name, ".key"), "", "", "")) p.reset();
      return p;
    };
    good_ = make("server");
    self_ = make("self");
  }
  static void TearDownTestSuite() {
    good_.reset();
    self_.reset();
  }
  void SetUp() override {
    FetchApp::SetUp();
    if (HasFatalFailure()) return;
    if (!peer_test::nginx_peer::available()) GTEST_SKIP() << "nginx is not installed";
    ASSERT_TRUE(good_ && self_) << "nginx (TLS) did not start";
  }

  static inline std::unique_ptr<peer_test::nginx_peer> good_, self_;
};

TEST_F(FetchAppTls, CacertVerifiesTheServer) {
  auto r = fetch({"--cacert", net::testing::cert("ca"), good_->url("/hello.txt")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "Hello, TLS!");
  auto by_name = fetch({"--cacert", net::testing::cert("ca"), good_->url_for("localhost", "/hello.txt")});
  EXPECT_EQ(by_name.status, 0) << by_name.err;
}

TEST_F(FetchAppTls, CertificateProblemsExit60) {
  // The system trust store does not hold the test CA.
  auto untrusted = fetch({good_->url("/hello.txt")});
  EXPECT_EQ(untrusted.status, 60) << untrusted.err;
  EXPECT_NE(untrusted.err.find("dusty-fetch: certificate verify failed for 127.0.0.1:"), std::string::npos)
      << untrusted.err;
  auto self = fetch({"--cacert", net::testing::cert("ca"), self_->url("/hello.txt")});
  EXPECT_EQ(self.status, 60) << self.err;
  EXPECT_NE(self.err.find(": self-signed certificate"), std::string::npos) << self.err;
  EXPECT_EQ(self.out, "");
}

TEST_F(FetchAppTls, InsecureSkipsVerification) {
  auto r = fetch({"-k", self_->url("/hello.txt")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "Hello, TLS!");
  auto l = fetch({"-skL", "--insecure", self_->url_for("localhost", "/hello.txt")});
  EXPECT_EQ(l.status, 0) << l.err;
}

TEST_F(FetchAppTls, HandshakeFailureExits35) {
  // https:// to a plain HTTP port: the answer is no TLS at all.
  auto r = fetch({"--cacert", net::testing::cert("ca"), "https://127.0.0.1:" + std::to_string(srv_.port()) + "/hello"});
  EXPECT_EQ(r.status, 35) << r.err;
  EXPECT_NE(r.err.find("dusty-fetch: TLS handshake with 127.0.0.1:"), std::string::npos) << r.err;
}

TEST_F(FetchAppTls, FilesThatCannotBeUsed) {
  auto ca = fetch({"--cacert", dir_.path("missing.pem"), good_->url("/hello.txt")});
  EXPECT_EQ(ca.status, 77) << ca.err;
  EXPECT_NE(ca.err.find("missing.pem"), std::string::npos) << ca.err;
  auto cert = fetch({"--cacert", net::testing::cert("ca"), "--cert", dir_.path("missing.pem"), "--key",
                     net::testing::cert("client", ".key"), good_->url("/hello.txt")});
  EXPECT_EQ(cert.status, 58) << cert.err;
  // A key that is not the certificate's.
  auto mismatch = fetch({"--cacert", net::testing::cert("ca"), "--cert", net::testing::cert("client"), "--key",
                         net::testing::cert("server", ".key"), good_->url("/hello.txt")});
  EXPECT_EQ(mismatch.status, 58) << mismatch.err;
}

}  // namespace
}  // namespace dusty::http
