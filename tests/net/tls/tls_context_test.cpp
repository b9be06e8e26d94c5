#include <dusty/net/tls/context.hpp>

#include <dusty/net/error.hpp>
#include <dusty/net/tls/counters.hpp>

#include "net/tls/tls_test_util.hpp"

#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

namespace {

using namespace dusty::net::testing;
namespace net = dusty::net;

template <class F>
std::string config_error_of(F f) {
  try {
    f();
  } catch (const tls::config_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(tls_context, builds_server_and_client_contexts) {
  auto s = tls::context::server(server_config_for());
  EXPECT_TRUE(s->is_server());
  EXPECT_NE(s->native(), nullptr);
  auto c = tls::context::client(client_config_trusting());
  EXPECT_FALSE(c->is_server());
  EXPECT_FALSE(c->insecure());
  // The system trust store (no ca_file) loads as well.
  EXPECT_NO_THROW(tls::context::client({}));
  tls::client_config insecure;
  insecure.insecure = true;
  EXPECT_TRUE(tls::context::client(insecure)->insecure());
}

TEST(tls_context, policy_is_tls12_and_13_without_renegotiation) {
  auto s = tls::context::server(server_config_for());
  EXPECT_EQ(SSL_CTX_get_min_proto_version(s->native()), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_max_proto_version(s->native()), TLS1_3_VERSION);
  EXPECT_NE(SSL_CTX_get_options(s->native()) & SSL_OP_NO_RENEGOTIATION, 0u);
  EXPECT_EQ(SSL_CTX_get_max_early_data(s->native()), 0u);
  EXPECT_NE(SSL_CTX_get_mode(s->native()) & SSL_MODE_RELEASE_BUFFERS, 0u);
}

TEST(tls_context, a_missing_certificate_names_the_file_and_the_reason) {
  auto cfg = server_config_for();
  cfg.cert_file = cert_dir() + "/nope.pem";
  std::string what = config_error_of([&] { tls::context::server(cfg); });
  EXPECT_EQ(what, "TLS certificate chain '" + cfg.cert_file + "': No such file or directory");
  try {
    tls::context::server(cfg);
  } catch (const tls::config_error& e) {
    EXPECT_EQ(e.file(), cfg.cert_file);
  }
}

TEST(tls_context, a_file_that_is_not_pem_is_refused) {
  auto cfg = server_config_for();
  cfg.cert_file = cert("garbage");
  std::string what = config_error_of([&] { tls::context::server(cfg); });
  EXPECT_TRUE(what.starts_with("TLS certificate chain '" + cfg.cert_file + "': ")) << what;
  auto cfg2 = server_config_for();
  cfg2.key_file = cert("garbage");
  what = config_error_of([&] { tls::context::server(cfg2); });
  EXPECT_TRUE(what.starts_with("TLS private key '" + cfg2.key_file + "': ")) << what;
}

TEST(tls_context, a_key_of_another_certificate_is_refused) {
  auto cfg = server_config_for();
  cfg.key_file = cert("b", ".key");
  std::string what = config_error_of([&] { tls::context::server(cfg); });
  EXPECT_TRUE(what.starts_with("TLS private key '" + cfg.key_file + "' does not match certificate '" + cfg.cert_file +
                               "'"))
      << what;
  // The same check for an SNI entry and for a client certificate.
  auto sni = server_config_for();
  sni.sni.push_back({"b.test", cert("b"), cert("server", ".key")});
  EXPECT_NE(config_error_of([&] { tls::context::server(sni); }).find("does not match"), std::string::npos);
  auto client = client_config_trusting();
  client.cert_file = cert("client");
  client.key_file = cert("server", ".key");
  EXPECT_NE(config_error_of([&] { tls::context::client(client); }).find("does not match"), std::string::npos);
}

TEST(tls_context, bad_ca_files_and_alpn_names_are_refused) {
  auto client = client_config_trusting();
  client.ca_file = cert_dir() + "/missing-ca.pem";
  EXPECT_EQ(config_error_of([&] { tls::context::client(client); }),
            "TLS CA file '" + client.ca_file + "': No such file or directory");
  auto server = server_config_for();
  server.client_ca_file = cert("garbage");
  EXPECT_TRUE(config_error_of([&] { tls::context::server(server); }).starts_with("TLS client CA file '"));
  auto alpn = server_config_for();
  alpn.alpn = {"http/1.1", std::string(300, 'x')};
  EXPECT_TRUE(config_error_of([&] { tls::context::server(alpn); }).starts_with("TLS ALPN protocol name"));
}

TEST(tls_context, sni_names_match_exactly_or_by_one_wildcard_label) {
  auto cfg = server_config_for();
  cfg.sni.push_back({"B.test", cert("b"), cert("b", ".key")});
  cfg.sni.push_back({"*.wild.test", cert("b"), cert("b", ".key")});
  auto ctx = tls::context::server(cfg);
  EXPECT_EQ(ctx->context_for("unknown.test"), ctx->native());
  EXPECT_NE(ctx->context_for("b.test"), ctx->native());
  EXPECT_EQ(ctx->context_for("B.TEST"), ctx->context_for("b.test"));
  EXPECT_NE(ctx->context_for("x.wild.test"), ctx->native());
  EXPECT_NE(ctx->context_for("x.wild.test"), ctx->context_for("b.test"));
  EXPECT_EQ(ctx->context_for("wild.test"), ctx->native());
  EXPECT_EQ(ctx->context_for("a.x.wild.test"), ctx->native());
  EXPECT_EQ(ctx->context_for(".wild.test"), ctx->native());
}

std::string ticket_keys(const tls::context& c) {
  unsigned char keys[80];
  EXPECT_EQ(SSL_CTX_get_tlsext_ticket_keys(c.native(), keys, sizeof keys), 1);
  return {reinterpret_cast<char*>(keys), sizeof keys};
}

TEST(tls_context, reload_swaps_the_context_and_keeps_the_ticket_key) {
  tls::context_holder holder(tls::context::server(server_config_for()));
  auto before = holder.current();
  holder.reload(server_config_for("b"));
  auto after = holder.current();
  EXPECT_NE(before, after);
  EXPECT_EQ(ticket_keys(*before), ticket_keys(*after));
  // Two contexts built independently have different keys.
  EXPECT_NE(ticket_keys(*tls::context::server(server_config_for())), ticket_keys(*after));
  // A failed reload keeps the current context.
  auto bad = server_config_for();
  bad.key_file = cert("garbage");
  EXPECT_THROW(holder.reload(bad), tls::config_error);
  EXPECT_EQ(holder.current(), after);
}

TEST(tls_context, session_cache_replaces_and_evicts_the_oldest) {
  tls::session_cache cache(2);
  SSL_SESSION* a = SSL_SESSION_new();
  SSL_SESSION* b = SSL_SESSION_new();
  SSL_SESSION* c = SSL_SESSION_new();
  SSL_SESSION* a2 = SSL_SESSION_new();
  cache.put("a", a);
  cache.put("b", b);
  EXPECT_EQ(cache.find("a"), a);
  cache.put("a", a2);  // replaces (and frees) a; "a" is now the newest
  EXPECT_EQ(cache.find("a"), a2);
  cache.put("c", c);  // evicts "b"
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find("b"), nullptr);
  EXPECT_EQ(cache.find("c"), c);
  cache.erase("c");
  EXPECT_EQ(cache.find("c"), nullptr);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(tls_context, error_codes_have_messages) {
  EXPECT_EQ(std::error_code(net::errc::tls_truncated).message(),
            "TLS connection closed without close_notify (truncated)");
  EXPECT_EQ(std::error_code(net::errc::tls_certificate_invalid).message(), "certificate verify failed");
  EXPECT_EQ(std::error_code(net::errc::tls_plaintext_http).message(), "plain HTTP request sent to a TLS port");
  for (auto e : {net::errc::tls_handshake_failed, net::errc::tls_host_name_mismatch, net::errc::tls_protocol_error})
    EXPECT_EQ(std::error_code(e).message().find("unknown"), std::string::npos);
}

TEST(tls_context, ktls_detection_matches_the_kernel) {
  // Ground truth: enabling the "tls" ULP on a connected TCP socket, which is what kTLS
  // does first. On the test machines the kernel has no such module and both say no.
  int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(l, 1), 0);
  ASSERT_EQ(::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len), 0);
  int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  bool kernel_has_it = ::setsockopt(c, IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls") == 0;
  ::close(c);
  ::close(l);
  EXPECT_EQ(tls::ktls_available(), kernel_has_it);
}

}  // namespace
