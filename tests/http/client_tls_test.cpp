// http::client over HTTPS: against nginx serving TLS with certificates made at test time
// (tests/net/tls/make_certs.py): verification by CA file, wrong host (DNS name and IP
// address), expired and self-signed certificates, the insecure switch, a server that
// requires a client certificate, a 20 MiB body, keep-alive reuse, session resumption
// across pooled connections, per-setting pools; and an in-process TLS peer that closes
// without close_notify in the middle of a body.
#include <dusty/http/client.hpp>

#include "http/peer_support.hpp"
#include "http/server_support.hpp"
#include "net/tls/tls_test_util.hpp"

#include <dusty/core/fiber.hpp>
#include <dusty/net/error.hpp>
#include <dusty/net/listener.hpp>
#include <dusty/net/tls/context.hpp>
#include <dusty/net/tls/counters.hpp>
#include <dusty/net/tls/stream.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dusty::http {
namespace {

using namespace std::chrono_literals;
using net::testing::cert;
using peer_test::nginx_peer;
using server_test::pattern;

constexpr std::size_t large_size = 20 * 1024 * 1024;

/// The client_error `fn` throws (its code, and its message in `what`); a test failure
/// when it throws none.
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

client_tls_config trusting_test_ca() {
  client_tls_config t;
  t.ca_file = cert("ca");
  return t;
}

class ClientTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!nginx_peer::available()) return;
    auto make = [](const std::string& name, const std::string& tls_settings = {}) {
      auto p = std::make_unique<nginx_peer>();
      p->add_file("small.txt", pattern(1000));
      p->add_file("large.bin", pattern(large_size, 7));
      if (!p->start_tls(cert(name), cert(name, ".key"), tls_settings, "  keepalive_timeout 30s;\n", "")) p.reset();
      return p;
    };
    good_ = make("server");
    wrong_host_ = make("b");
    expired_ = make("expired");
    self_signed_ = make("self");
    mutual_ = make("server", "    ssl_verify_client on;\n    ssl_client_certificate " + cert("ca") + ";\n");
  }
  static void TearDownTestSuite() {
    good_.reset();
    wrong_host_.reset();
    expired_.reset();
    self_signed_.reset();
    mutual_.reset();
  }

  void need(const std::unique_ptr<nginx_peer>& p) {
    if (!nginx_peer::available()) GTEST_SKIP() << nginx_peer::program << " is not installed";
    ASSERT_TRUE(p) << "nginx (TLS) did not start";
  }

  /// Runs `job` in a fiber of shard 0; a client_error escaping it fails the test.
  void run(std::function<void()> job) {
    rt_.call([&] {
      try {
        job();
      } catch (const client_error& e) {
        ADD_FAILURE() << "client_error: " << e.what() << " (" << e.code() << ")";
      }
    });
  }

  static inline std::unique_ptr<nginx_peer> good_, wrong_host_, expired_, self_signed_, mutual_;
  server_test::runtime_thread rt_{1};
};

TEST_F(ClientTls, VerifiedWithCaFileByIpAndByName) {
  need(good_);
  run([&] {
    client c({.tls = trusting_test_ca()});
    auto r = c.get(good_->url("/small.txt"));  // 127.0.0.1: the certificate's IP entry
    EXPECT_EQ(r.status(), status::ok);
    EXPECT_EQ(r.body(), pattern(1000));
    auto n = c.get(good_->url_for("localhost", "/small.txt"));  // a DNS entry, sent as SNI
    EXPECT_EQ(n.status(), status::ok);
    EXPECT_EQ(n.body(), pattern(1000));
  });
}

TEST_F(ClientTls, SystemTrustStoreRejectsTheTestCa) {
  need(good_);
  run([&] {
    client c;  // the system's trust store, which does not hold the test CA
    std::string what;
    EXPECT_EQ(error_of([&] { c.get(good_->url("/small.txt")); }, &what), net::errc::tls_certificate_invalid);
    EXPECT_EQ(what.rfind("certificate verify failed for 127.0.0.1:" + std::to_string(good_->port()) + ": ", 0), 0u)
        << what;
    // A CA that did not sign the server's certificate is no better.
    client_tls_config other;
    other.ca_file = cert("other_ca");
    client o({.tls = other});
    EXPECT_EQ(error_of([&] { o.get(good_->url("/small.txt")); }), net::errc::tls_certificate_invalid);
  });
}

TEST_F(ClientTls, SelfSignedCertificateNamesTheCause) {
  need(self_signed_);
  run([&] {
    client c({.tls = trusting_test_ca()});
    std::string what;
    EXPECT_EQ(error_of([&] { c.get(self_signed_->url("/small.txt")); }, &what), net::errc::tls_certificate_invalid);
    EXPECT_EQ(what, "certificate verify failed for 127.0.0.1:" + std::to_string(self_signed_->port()) +
                        ": self-signed certificate");
  });
}

TEST_F(ClientTls, WrongHostByNameAndByAddress) {
  need(wrong_host_);
  run([&] {
    client c({.tls = trusting_test_ca()});
    std::string what;
    // The certificate is valid (signed by the CA) but for b.test and *.wild.test.
    EXPECT_EQ(error_of([&] { c.get(wrong_host_->url_for("localhost", "/small.txt")); }, &what),
              net::errc::tls_host_name_mismatch);
    EXPECT_NE(what.find("host name mismatch: certificate is for b.test"), std::string::npos) << what;
    EXPECT_NE(what.find("not localhost"), std::string::npos) << what;
    EXPECT_EQ(error_of([&] { c.get(wrong_host_->url("/small.txt")); }, &what), net::errc::tls_host_name_mismatch);
    EXPECT_NE(what.find("not 127.0.0.1"), std::string::npos) << what;
  });
}

TEST_F(ClientTls, ExpiredCertificateIsRejected) {
  need(expired_);
  run([&] {
    client c({.tls = trusting_test_ca()});
    std::string what;
    EXPECT_EQ(error_of([&] { c.get(expired_->url("/small.txt")); }, &what), net::errc::tls_certificate_invalid);
    EXPECT_NE(what.find("certificate has expired"), std::string::npos) << what;
  });
}

TEST_F(ClientTls, InsecureSwitchAcceptsAnyCertificateAndKeepsItsOwnPool) {
  need(expired_);
  need(self_signed_);
  run([&] {
    client c({.tls = trusting_test_ca()});
    client_tls_config insecure;
    insecure.insecure = true;
    fetch_options o;
    o.tls = insecure;
    auto r = c.get(self_signed_->url("/small.txt"), o);
    EXPECT_EQ(r.status(), status::ok);
    EXPECT_EQ(r.body(), pattern(1000));
    auto e = c.get(expired_->url("/small.txt"), o);
    EXPECT_EQ(e.status(), status::ok);
    EXPECT_EQ(e.body(), pattern(1000));  // read to its end: the connection goes idle
    EXPECT_EQ(c.stats().idle, 2u);
    // The idle insecure connection must never serve a verified request.
    EXPECT_EQ(error_of([&] { c.get(self_signed_->url("/small.txt")); }), net::errc::tls_certificate_invalid);
    auto st = c.stats();
    EXPECT_EQ(st.created, 2u);  // the failed connection never joined a pool
    EXPECT_EQ(st.reused, 0u);
    EXPECT_EQ(st.idle, 2u);
  });
}

TEST_F(ClientTls, ClientCertificateWhenTheServerRequiresOne) {
  need(mutual_);
  run([&] {
    // Without a certificate nginx completes the handshake and answers 400.
    client anonymous({.tls = trusting_test_ca()});
    auto r = anonymous.get(mutual_->url("/small.txt"));
    EXPECT_EQ(r.status(), status::bad_request);
    EXPECT_NE(r.body().find("No required SSL certificate was sent"), std::string::npos) << r.body();

    auto with_cert = trusting_test_ca();
    with_cert.cert_file = cert("client");
    with_cert.key_file = cert("client", ".key");
    client c({.tls = with_cert});
    auto ok = c.get(mutual_->url("/small.txt"));
    EXPECT_EQ(ok.status(), status::ok);
    EXPECT_EQ(ok.body(), pattern(1000));

    // Per request too.
    fetch_options o;
    o.tls = with_cert;
    EXPECT_EQ(anonymous.get(mutual_->url("/small.txt"), o).status(), status::ok);
  });
}

TEST_F(ClientTls, ServerThatRefusesTheHandshakeWithoutAClientCertificate) {
  // openssl s_server -Verify 1: in TLS 1.3 the client has finished its handshake when the
  // server's "certificate required" alert comes, so it arrives with the response.
  if (!peer_test::have_program("/usr/bin/openssl")) GTEST_SKIP() << "openssl is not installed";
  peer_test::peer_process s_server;
  std::uint16_t port = 0;
  for (int attempt = 0; attempt < 3 && !s_server.running(); ++attempt) {
    port = peer_test::free_port();
    s_server.start({"/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert", cert("server"),
                    "-key", cert("server", ".key"), "-CAfile", cert("ca"), "-Verify", "1", "-www", "-quiet"},
                   port);
  }
  ASSERT_TRUE(s_server.running()) << "openssl s_server did not start";
  auto url = "https://127.0.0.1:" + std::to_string(port) + "/";
  run([&] {
    client anonymous({.tls = trusting_test_ca()});
    std::string what;
    EXPECT_EQ(error_of([&] { anonymous.get(url).body(); }, &what), net::errc::tls_protocol_error) << what;
    EXPECT_NE(what.find("certificate required"), std::string::npos) << what;

    auto with_cert = trusting_test_ca();
    with_cert.cert_file = cert("client");
    with_cert.key_file = cert("client", ".key");
    client c({.tls = with_cert});
    auto r = c.get(url);
    EXPECT_EQ(r.status(), status::ok);
    // s_server -www answers HTTP/1.0 without a length and ends with close_notify: the
    // body ends cleanly.
    EXPECT_NE(r.body().find("s_server"), std::string::npos) << r.body();
  });
}

TEST_F(ClientTls, BadFilesAreOneClearError) {
  need(good_);
  run([&] {
    client_tls_config t;
    t.ca_file = "/nonexistent/ca.pem";
    client c({.tls = t});
    std::string what;
    EXPECT_EQ(error_of([&] { c.get(good_->url("/small.txt")); }, &what), std::errc::invalid_argument);
    EXPECT_NE(what.find("/nonexistent/ca.pem"), std::string::npos) << what;
  });
}

TEST_F(ClientTls, TwentyMebibytesOverTls) {
  need(good_);
  run([&] {
    client c({.tls = trusting_test_ca()});
    fetch_options o;
    o.max_response_size = 32 * 1024 * 1024;
    auto r = c.get(good_->url("/large.bin"), o);
    EXPECT_EQ(r.header("Content-Length"), std::to_string(large_size));
    std::vector<char> buf(64 * 1024);
    std::string expected = pattern(large_size, 7);
    std::size_t at = 0;
    bool same = true;
    while (std::size_t n = r.read_some(buf)) {
      if (same && (at + n > expected.size() || std::string_view(expected).substr(at, n) != std::string_view(buf.data(), n))) {
        ADD_FAILURE() << "body differs at offset " << at;
        same = false;
      }
      at += n;
    }
    EXPECT_EQ(at, large_size);
    // Read to its end: the connection went back to the pool.
    EXPECT_EQ(c.stats().idle, 1u);
  });
}

TEST_F(ClientTls, KeepAliveReuseAndSessionResumption) {
  need(good_);
  run([&] {
    client c({.tls = trusting_test_ca()});
    auto before = net::tls::shard_counters();
    for (int i = 0; i < 5; ++i) EXPECT_EQ(c.get(good_->url("/small.txt")).body(), pattern(1000));
    auto s = c.stats();
    EXPECT_EQ(s.created, 1u);
    EXPECT_EQ(s.reused, 4u);
    EXPECT_EQ(s.tls_handshakes, 1u);
    EXPECT_EQ(s.tls_resumed, 0u);

    // New connections of the same pool resume the session the server issued.
    for (int i = 0; i < 3; ++i) {
      c.close_idle();
      EXPECT_EQ(c.get(good_->url("/small.txt")).body(), pattern(1000));
    }
    s = c.stats();
    EXPECT_EQ(s.created, 4u);
    EXPECT_EQ(s.tls_handshakes, 4u);
    EXPECT_EQ(s.tls_resumed, 3u);
    auto after = net::tls::shard_counters();
    EXPECT_EQ(after.handshakes_ok - before.handshakes_ok, 4u);
    EXPECT_EQ(after.resumed - before.resumed, 3u);

    // Another host name is another pool: its own full handshake.
    EXPECT_EQ(c.get(good_->url_for("localhost", "/small.txt")).status(), status::ok);
    EXPECT_EQ(c.stats().tls_resumed, 3u);

    // Resumption off: every new connection makes a full handshake.
    auto no_resume = trusting_test_ca();
    no_resume.session_resumption = false;
    client f({.tls = no_resume});
    for (int i = 0; i < 2; ++i) {
      f.close_idle();
      EXPECT_EQ(f.get(good_->url("/small.txt")).status(), status::ok);
    }
    EXPECT_EQ(f.stats().tls_handshakes, 2u);
    EXPECT_EQ(f.stats().tls_resumed, 0u);
  });
}

TEST_F(ClientTls, HttpAndHttpsToOnePortNeverShareAConnection) {
  need(good_);
  run([&] {
    client c({.tls = trusting_test_ca()});
    EXPECT_EQ(c.get(good_->url("/small.txt")).body(), pattern(1000));
    EXPECT_EQ(c.stats().idle, 1u);
    // Plain HTTP to the TLS port: a new plaintext connection, which nginx answers 400.
    auto plain = "http://127.0.0.1:" + std::to_string(good_->port()) + "/small.txt";
    auto r = c.get(plain);
    EXPECT_EQ(r.status(), status::bad_request);
    EXPECT_NE(r.body().find("plain HTTP request was sent to HTTPS port"), std::string::npos) << r.body();
    EXPECT_EQ(c.stats().created, 2u);
    EXPECT_EQ(c.stats().tls_handshakes, 1u);
  });
}

TEST_F(ClientTls, ConnectTimeoutBoundsTheHandshake) {
  run([&] {
    // A listener that accepts (the kernel does) and never answers the ClientHello.
    auto l = net::listen(*net::socket_address::parse("127.0.0.1:0"));
    ASSERT_TRUE(l);
    client c({.connect_timeout = 300ms, .tls = trusting_test_ca()});
    std::string what;
    auto url = "https://127.0.0.1:" + std::to_string(l->local_address().port()) + "/";
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(error_of([&] { c.get(url); }, &what), dusty::errc::timed_out);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    EXPECT_NE(what.find("TLS handshake with 127.0.0.1:"), std::string::npos) << what;
  });
}

TEST_F(ClientTls, CloseWithoutCloseNotifyMidBodyIsAnError) {
  run([&] {
    auto l = net::listen(*net::socket_address::parse("127.0.0.1:0"));
    ASSERT_TRUE(l);
    auto server_ctx = net::tls::context::server(net::testing::server_config_for());
    // The peer: one TLS connection, a head announcing 1000 bytes, 500 of them, then the
    // TCP connection ends with no close_notify.
    auto peer = spawn([&] {
      auto conn = l->accept(after(10s));
      if (!conn) return;
      net::tls::stream s(server_ctx, std::move(*conn));
      if (!s.handshake(after(10s))) return;
      std::string got;
      std::byte buf[4096];
      while (got.find("\r\n\r\n") == std::string::npos) {
        auto n = s.read_some(buf, after(10s));
        if (!n || *n == 0) return;
        got.append(reinterpret_cast<const char*>(buf), *n);
      }
      std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + std::string(500, 'x');
      (void)s.write(std::as_bytes(std::span(answer)), after(10s));
      (void)s.transport().shutdown(net::shutdown_how::both);
    });
    client c({.retry = {.max_retries = 0}, .tls = trusting_test_ca()});
    auto url = "https://127.0.0.1:" + std::to_string(l->local_address().port()) + "/body";
    auto r = c.get(url);
    EXPECT_EQ(r.status(), status::ok);
    std::string what;
    EXPECT_EQ(error_of([&] { r.body(); }, &what), net::errc::tls_truncated);
    EXPECT_NE(what.find("close_notify"), std::string::npos) << what;
    peer.join();
  });
}

}  // namespace
}  // namespace dusty::http
