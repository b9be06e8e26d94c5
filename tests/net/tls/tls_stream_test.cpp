#include <dusty/net/tls/stream.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/core/submit_to.hpp>
#include <dusty/net/error.hpp>
#include <dusty/net/tls/counters.hpp>

#include "net/tls/tls_test_util.hpp"

#include <gtest/gtest.h>

#include <openssl/ssl.h>
#include <sys/ioctl.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace dusty::net::testing;
namespace net = dusty::net;
using dusty::errc;

// A listener made on the calling shard (listeners belong to one shard), whose address
// another shard waits for with wait_for_address().
struct published_listener {
  std::atomic<int> port{0};
  net::listener listen_here() {
    auto l = net::listen(net::socket_address::ipv4_loopback());
    EXPECT_TRUE(l) << l.error().message();
    port.store(l->local_address().port());
    return std::move(*l);
  }
  net::socket_address wait_for_address() {
    while (port.load() == 0) dusty::sleep_for(1ms);
    return *net::socket_address::parse("127.0.0.1:" + std::to_string(port.load()));
  }
};

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

// Echoes until the peer ends its side cleanly, then ends ours with close_notify.
void tls_echo(tls::stream& s) {
  char buf[8192];
  for (;;) {
    auto n = s.read_some(std::as_writable_bytes(std::span(buf)), soon());
    if (!n) {
      EXPECT_EQ(n.error(), errc::eof) << n.error().message() << " " << s.error_detail();
      break;
    }
    ASSERT_TRUE(s.write(std::as_bytes(std::span(buf, *n)), soon()));
  }
  EXPECT_TRUE(s.shutdown(soon()));
}

struct pair_streams {
  std::unique_ptr<tls::stream> client;
  std::unique_ptr<tls::stream> server;
};

pair_streams make_pair_streams(std::shared_ptr<const tls::context> cctx, std::shared_ptr<const tls::context> sctx,
                               tls::client_options opts = {.host = "localhost"}) {
  auto [c, s] = nodelay_pair();
  return {std::make_unique<tls::stream>(std::move(cctx), std::move(c), std::move(opts)),
          std::make_unique<tls::stream>(std::move(sctx), std::move(s))};
}

TEST(tls_stream, handshake_and_echo_between_two_fibers) {
  dusty::runtime rt(config());
  rt.run([] {
    auto scfg = server_config_for();
    scfg.alpn = {"h2", "http/1.1"};
    auto ccfg = client_config_trusting();
    ccfg.alpn = {"http/1.1"};
    auto before = tls::shard_counters();
    auto p = make_pair_streams(tls::context::client(ccfg), tls::context::server(scfg));
    auto [cr, sr] = handshake_both(*p.client, *p.server);
    ASSERT_TRUE(cr) << cr.error().message() << ": " << p.client->error_detail();
    ASSERT_TRUE(sr) << sr.error().message() << ": " << p.server->error_detail();
    EXPECT_TRUE(p.client->handshake_done());
    EXPECT_EQ(p.client->alpn(), "http/1.1");
    EXPECT_EQ(p.server->alpn(), "http/1.1");
    EXPECT_EQ(p.server->server_name(), "localhost");
    EXPECT_EQ(p.client->protocol_version(), tls::version::tls1_3);
    EXPECT_EQ(tls::to_string(p.server->protocol_version()), "TLSv1.3");
    EXPECT_FALSE(p.client->cipher().empty());
    EXPECT_TRUE(p.client->peer_verified());
    EXPECT_FALSE(p.server->peer_verified());  // no client certificate asked for
    EXPECT_FALSE(p.client->resumed());
    EXPECT_FALSE(p.client->ktls());
    auto after = tls::shard_counters();
    EXPECT_EQ(after.handshakes_ok, before.handshakes_ok + 2);
    EXPECT_EQ(after.userspace_connections, before.userspace_connections + 2);
    EXPECT_EQ(after.ktls_connections, 0u);

    auto server = dusty::spawn([&] { tls_echo(*p.server); });
    for (std::size_t size : {std::size_t{1}, std::size_t{100}, std::size_t{16384}, std::size_t{16385},
                             std::size_t{100'000}, std::size_t{1} << 20}) {
      std::string msg = pattern(size);
      // The reader runs beside the writer: a 1 MiB echo does not fit in socket buffers.
      std::string echoed;
      auto reader = dusty::spawn([&] { echoed = read_string(*p.client, size); });
      ASSERT_TRUE(p.client->write(bytes(msg), soon()));
      reader.join();
      EXPECT_EQ(echoed, msg) << size;
    }
    // writev: small segments gathered, a large one on its own.
    std::string big = pattern(50'000);
    iovec v[] = {{const_cast<char*>("head "), 5}, {const_cast<char*>(""), 0}, {const_cast<char*>("middle "), 7},
                 {big.data(), big.size()}, {const_cast<char*>(" tail"), 5}};
    std::string want = "head middle " + big + " tail";
    std::string echoed;
    auto reader = dusty::spawn([&] { echoed = read_string(*p.client, want.size()); });
    ASSERT_TRUE(p.client->writev(v, soon()));
    reader.join();
    EXPECT_EQ(echoed, want);

    ASSERT_TRUE(p.client->shutdown(soon()));
    auto [rest, end] = read_to_end(*p.client);
    EXPECT_EQ(rest, "");
    EXPECT_EQ(end, errc::eof) << end.message();  // the server's close_notify
    server.join();
    // Writing after shutdown is refused.
    EXPECT_EQ(p.client->write(bytes("x"), soon()).error(), std::errc::broken_pipe);
  });
}

TEST(tls_stream, first_read_and_write_run_the_handshake) {
  dusty::runtime rt(config());
  rt.run([] {
    auto p = make_pair_streams(tls::context::client(client_config_trusting()), tls::context::server(server_config_for()));
    auto server = dusty::spawn([&] { tls_echo(*p.server); });  // no explicit handshake
    ASSERT_TRUE(p.client->write(bytes("implicit"), soon())) << p.client->error_detail();
    EXPECT_EQ(read_string(*p.client, 8), "implicit");
    ASSERT_TRUE(p.client->shutdown(soon()));
    EXPECT_EQ(read_to_end(*p.client).second, errc::eof);
    server.join();
  });
}

TEST(tls_stream, tls12_works_and_resumes) {
  dusty::runtime rt(config());
  rt.run([] {
    auto sctx = tls::context::server(server_config_for());
    auto cctx = tls::context::client(client_config_trusting());
    SSL_CTX_set_max_proto_version(cctx->native(), TLS1_2_VERSION);  // before any stream exists
    tls::session_cache cache;
    for (int round = 0; round < 2; ++round) {
      auto p = make_pair_streams(cctx, sctx, {.host = "127.0.0.1", .sessions = &cache});
      auto [cr, sr] = handshake_both(*p.client, *p.server);
      ASSERT_TRUE(cr) << p.client->error_detail();
      ASSERT_TRUE(sr) << p.server->error_detail();
      EXPECT_EQ(p.client->protocol_version(), tls::version::tls1_2);
      EXPECT_EQ(p.client->resumed(), round == 1);
      EXPECT_EQ(p.server->resumed(), round == 1);
      EXPECT_EQ(p.server->server_name(), "");  // no SNI for an IP address
      auto server = dusty::spawn([&] { tls_echo(*p.server); });
      ASSERT_TRUE(p.client->write(bytes("twelve"), soon()));
      EXPECT_EQ(read_string(*p.client, 6), "twelve");
      ASSERT_TRUE(p.client->shutdown(soon()));
      EXPECT_EQ(read_to_end(*p.client).second, errc::eof);
      server.join();
    }
    EXPECT_EQ(cache.size(), 1u);
  });
}

// A TLS 1.3 client receives its tickets after the handshake, while reading.
TEST(tls_stream, tls13_tickets_resume_on_another_shard) {
  dusty::runtime rt(config(2));
  rt.run([] {
    auto sctx = tls::context::server(server_config_for());
    auto cctx = tls::context::client(client_config_trusting());
    tls::session_cache cache;
    auto served_on = [&](unsigned shard) {
      published_listener where;
      // The server runs on `shard`, with the same context (so the same ticket key).
      auto server = dusty::submit_to(shard, [&] {
        auto l = where.listen_here();
        auto c = l.accept(soon());
        EXPECT_TRUE(c);
        tls::stream s(sctx, std::move(*c));
        EXPECT_TRUE(s.handshake()) << s.error_detail();
        bool resumed = s.resumed();
        tls_echo(s);
        return resumed;
      });
      auto addr = where.wait_for_address();
      auto c = net::connect(addr, soon());
      EXPECT_TRUE(c);
      tls::stream client(cctx, std::move(*c), {.host = "localhost", .sessions = &cache, .session_key = "k"});
      EXPECT_TRUE(client.handshake()) << client.error_detail();
      EXPECT_TRUE(client.write(bytes("ping"), soon()));
      EXPECT_EQ(read_string(client, 4), "ping");  // the tickets arrive before the echo
      EXPECT_TRUE(client.shutdown(soon()));
      EXPECT_EQ(read_to_end(client).second, errc::eof);
      bool server_resumed = server.get();
      EXPECT_EQ(server_resumed, client.resumed());
      return client.resumed();
    };
    EXPECT_FALSE(served_on(1));
    EXPECT_NE(cache.find("k"), nullptr);
    EXPECT_TRUE(served_on(0));  // ticket from shard 1, accepted on shard 0
    EXPECT_TRUE(served_on(1));
  });
}

// read_lazy takes the caller's buffer only for application data: session tickets that
// arrive first are processed while it waits without a buffer.
TEST(tls_stream, read_lazy_takes_no_buffer_for_tickets) {
  dusty::runtime rt(config());
  rt.run([] {
    auto p = make_pair_streams(tls::context::client(client_config_trusting()), tls::context::server(server_config_for()));
    auto [cr, sr] = handshake_both(*p.client, *p.server);
    ASSERT_TRUE(cr && sr);
    auto server = dusty::spawn([&] {
      dusty::sleep_for(50ms);  // the tickets were sent by the handshake; data comes later
      EXPECT_TRUE(p.server->write(bytes("late data"), soon()));
    });
    struct counting {
      std::byte buf[64];
      int calls = 0;
    } mem;
    dusty::buffer_source source{[](void* ctx) {
                                  auto* m = static_cast<counting*>(ctx);
                                  ++m->calls;
                                  return std::span<std::byte>(m->buf);
                                },
                                &mem};
    auto n = p.client->read_lazy(64, source, soon());
    ASSERT_TRUE(n) << n.error().message();
    EXPECT_EQ(text({mem.buf, *n}), "late data");
    EXPECT_EQ(mem.calls, 1);
    server.join();
  });
}

TEST(tls_stream, truncation_without_close_notify_is_an_error) {
  dusty::runtime rt(config());
  rt.run([] {
    auto p = make_pair_streams(tls::context::client(client_config_trusting()), tls::context::server(server_config_for()));
    auto [cr, sr] = handshake_both(*p.client, *p.server);
    ASSERT_TRUE(cr && sr);
    ASSERT_TRUE(p.client->write(bytes("partial body"), soon()));
    // The client's TCP connection ends with no close_notify.
    ASSERT_TRUE(p.client->transport().shutdown(net::shutdown_how::write));
    auto [got, end] = read_to_end(*p.server);
    EXPECT_EQ(got, "partial body");
    EXPECT_EQ(end, net::errc::tls_truncated) << end.message();
    EXPECT_EQ(p.server->error_detail(), "peer closed the connection without close_notify");
    // The failure is final.
    std::byte b[1];
    EXPECT_EQ(p.server->read_some(b, soon()).error(), net::errc::tls_truncated);
  });
}

TEST(tls_stream, truncation_is_seen_by_read_lazy_too) {
  dusty::runtime rt(config());
  rt.run([] {
    auto p = make_pair_streams(tls::context::client(client_config_trusting()), tls::context::server(server_config_for()));
    auto [cr, sr] = handshake_both(*p.client, *p.server);
    ASSERT_TRUE(cr && sr);
    ASSERT_TRUE(p.client->transport().shutdown(net::shutdown_how::write));
    std::byte buf[16];
    dusty::buffer_source source{[](void* ctx) { return std::span<std::byte>(static_cast<std::byte*>(ctx), 16); }, buf};
    EXPECT_EQ(p.server->read_lazy(16, source, soon()).error(), net::errc::tls_truncated);
  });
}

// Forwards bytes one at a time and waits until the receiving stream's socket has been
// drained before sending the next, so the receiver sees every byte in a read of its own:
// the TLS records are split at every possible point.
void trickle(net::connection& from, net::connection& to, int watched_fd) {
  std::byte buf[4096];
  for (;;) {
    auto n = from.read_some(buf, soon());
    if (!n) break;
    for (std::size_t i = 0; i < *n; ++i) {
      if (!to.write({buf + i, 1}, soon())) return;
      int queued = 1;
      auto until = soon();
      while (::ioctl(watched_fd, FIONREAD, &queued) == 0 && queued > 0 && std::chrono::steady_clock::now() < until)
        dusty::sleep_for(std::chrono::microseconds(20));
    }
  }
  (void)to.shutdown(net::shutdown_how::write);
}

TEST(tls_stream, records_split_at_every_byte) {
  dusty::runtime rt(config());
  rt.run([] {
    auto [c, p1] = nodelay_pair();
    auto [p2, s] = nodelay_pair();
    tls::stream client(tls::context::client(client_config_trusting()), std::move(c), {.host = "localhost"});
    tls::stream server(tls::context::server(server_config_for()), std::move(s));
    auto up = dusty::spawn([&] { trickle(p1, p2, server.transport().fd()); });
    auto down = dusty::spawn([&] { trickle(p2, p1, client.transport().fd()); });
    auto echo = dusty::spawn([&] {
      ASSERT_TRUE(server.handshake()) << server.error_detail();
      tls_echo(server);
    });
    ASSERT_TRUE(client.handshake()) << client.error_detail();
    std::string msg = pattern(3000);
    ASSERT_TRUE(client.write(bytes(msg), soon()));
    EXPECT_EQ(read_string(client, msg.size()), msg);
    // read_lazy through the same split records.
    ASSERT_TRUE(client.write(bytes("lazy"), soon()));
    std::byte buf[4];
    dusty::buffer_source source{[](void* ctx) { return std::span<std::byte>(static_cast<std::byte*>(ctx), 4); }, buf};
    std::string got;
    while (got.size() < 4) {
      auto n = client.read_lazy(4 - got.size(), source, soon());
      ASSERT_TRUE(n) << n.error().message();
      got += text({buf, *n});
    }
    EXPECT_EQ(got, "lazy");
    ASSERT_TRUE(client.shutdown(soon()));
    EXPECT_EQ(read_to_end(client).second, errc::eof);
    echo.join();
    up.join();
    down.join();
  });
}

// The first bytes of a TLS client, captured from a real handshake attempt.
std::string client_hello() {
  std::string hello;
  auto [c, s] = nodelay_pair();
  tls::stream client(tls::context::client(client_config_trusting()), std::move(c), {.host = "localhost"});
  auto f = dusty::spawn([&] { (void)client.handshake(dusty::after(2s)); });
  char buf[4096];
  auto n = s.read_some(std::as_writable_bytes(std::span(buf)), soon());
  EXPECT_TRUE(n);
  hello.assign(buf, n ? *n : 0);
  s.close();
  f.join();
  EXPECT_GT(hello.size(), 100u);
  EXPECT_EQ(hello[0], '\x16');
  return hello;
}

TEST(tls_stream, a_truncated_client_hello_fails_cleanly_and_is_counted) {
  dusty::runtime rt(config());
  rt.run([] {
    std::string hello = client_hello();
    auto [c, s] = nodelay_pair();
    tls::stream server(tls::context::server(server_config_for()), std::move(s));
    auto before = tls::shard_counters().handshakes_failed;
    ASSERT_TRUE(c.write(bytes(std::string_view(hello).substr(0, hello.size() / 2)), soon()));
    ASSERT_TRUE(c.shutdown(net::shutdown_how::write));
    auto r = server.handshake();
    EXPECT_EQ(r.error(), net::errc::tls_handshake_failed);
    EXPECT_EQ(server.error_detail(), "peer closed the connection during the handshake");
    EXPECT_EQ(tls::shard_counters().handshakes_failed, before + 1);
    // A peer that closes before sending anything reads as eof.
    auto [c2, s2] = nodelay_pair();
    tls::stream server2(tls::context::server(server_config_for()), std::move(s2));
    c2.close();
    EXPECT_EQ(server2.handshake().error(), errc::eof);
  });
}

TEST(tls_stream, garbage_fails_the_handshake_with_openssl_reason) {
  dusty::runtime rt(config());
  rt.run([] {
    for (std::string junk : {std::string("\x16\x03\x01\x00\x05hello", 10), std::string(200, '\x01'),
                             std::string("\x16\x03\x03\xff\xff", 5) + std::string(100, 'x')}) {
      auto [c, s] = nodelay_pair();
      tls::stream server(tls::context::server(server_config_for()), std::move(s));
      ASSERT_TRUE(c.write(bytes(junk), soon()));
      auto r = server.handshake(dusty::after(2s));
      EXPECT_EQ(r.error(), net::errc::tls_handshake_failed) << r.error().message();
      EXPECT_FALSE(server.error_detail().empty());
      server.close();
      // The server closed; the client sees an alert or the end, not a hang.
      char buf[256];
      auto n = c.read_some(std::as_writable_bytes(std::span(buf)), soon());
      if (n) {
        EXPECT_EQ(buf[0], '\x15');  // a TLS alert record
      }
    }
  });
}

TEST(tls_stream, plaintext_http_is_detected_even_one_byte_at_a_time) {
  dusty::runtime rt(config());
  rt.run([] {
    for (bool trickled : {false, true}) {
      auto [c, s] = nodelay_pair();
      tls::stream server(tls::context::server(server_config_for()), std::move(s));
      auto before = tls::shard_counters().plaintext_http;
      auto client = dusty::spawn([&, trickled] {
        std::string req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        if (trickled) {
          for (char ch : std::string_view(req).substr(0, 5)) {
            ASSERT_TRUE(c.write(bytes(std::string_view(&ch, 1)), soon()));
            dusty::sleep_for(5ms);
          }
          req = req.substr(5);
        }
        ASSERT_TRUE(c.write(bytes(req), soon()));
      });
      auto r = server.handshake();
      client.join();
      EXPECT_EQ(r.error(), net::errc::tls_plaintext_http);
      EXPECT_EQ(tls::shard_counters().plaintext_http, before + 1);
      // The server may answer in plaintext on the transport, as nginx does.
      std::string_view answer = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      ASSERT_TRUE(server.transport().write(bytes(answer), soon()));
      server.close();
      EXPECT_EQ(read_to_end(c).first, answer);
    }
  });
}

TEST(tls_stream, handshake_timeout_is_timed_out_and_final) {
  dusty::runtime rt(config());
  rt.run([] {
    auto [c, s] = nodelay_pair();
    tls::stream server(tls::context::server(server_config_for()), std::move(s));
    auto start = std::chrono::steady_clock::now();
    auto r = server.handshake(dusty::after(100ms));
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(r.error(), errc::timed_out);
    EXPECT_GE(took, 90ms);
    EXPECT_LT(took, 2s);
    EXPECT_EQ(server.handshake(dusty::after(1s)).error(), errc::timed_out);
  });
}

TEST(tls_stream, cancelling_a_fiber_mid_handshake_leaves_nothing_behind) {
  dusty::runtime rt(config());
  rt.run([] {
    std::string hello = client_hello();
    auto before = tls::shard_counters().handshakes_failed;
    // Server side: half a ClientHello, then silence; the fiber is cancelled in the wait.
    {
      auto [c, s] = nodelay_pair();
      ASSERT_TRUE(c.write(bytes(std::string_view(hello).substr(0, hello.size() / 2)), soon()));
      bool cancelled = false;
      auto f = dusty::spawn([&, s = std::move(s)]() mutable {
        tls::stream server(tls::context::server(server_config_for()), std::move(s));
        try {
          (void)server.handshake();
        } catch (const dusty::cancelled_error&) {
          cancelled = true;
          throw;
        }
      });
      dusty::sleep_for(50ms);
      f.cancel();
      EXPECT_THROW(f.join(), dusty::cancelled_error);
      EXPECT_TRUE(cancelled);
    }
    // Client side: the server never answers the ClientHello.
    {
      auto [c, s] = nodelay_pair();
      auto f = dusty::spawn([&, c = std::move(c)]() mutable {
        tls::stream client(tls::context::client(client_config_trusting()), std::move(c), {.host = "localhost"});
        (void)client.handshake();
      });
      char buf[4096];
      ASSERT_TRUE(s.read_some(std::as_writable_bytes(std::span(buf)), soon()));  // the ClientHello
      f.cancel();
      EXPECT_THROW(f.join(), dusty::cancelled_error);
    }
    EXPECT_EQ(tls::shard_counters().handshakes_failed, before + 2);
    // A deadline scope around the handshake is the same cancellation.
    auto [c, s] = nodelay_pair();
    tls::stream server(tls::context::server(server_config_for()), std::move(s));
    EXPECT_THROW(dusty::with_timeout(50ms, [&] { return server.handshake(); }), dusty::timeout_error);
  });
}

TEST(tls_stream, cancelling_a_read_loses_no_data) {
  dusty::runtime rt(config());
  rt.run([] {
    auto p = make_pair_streams(tls::context::client(client_config_trusting()), tls::context::server(server_config_for()));
    auto [cr, sr] = handshake_both(*p.client, *p.server);
    ASSERT_TRUE(cr && sr);
    std::byte b[16];
    EXPECT_THROW(dusty::with_timeout(30ms, [&] { return p.server->read_some(b, soon()); }), dusty::timeout_error);
    EXPECT_EQ(p.server->read_some(b, dusty::after(20ms)).error(), errc::timed_out);  // not final
    ASSERT_TRUE(p.client->write(bytes("after"), soon()));
    EXPECT_EQ(read_string(*p.server, 5), "after");
  });
}

struct verify_case {
  std::string server_cert;
  std::string host;
  std::string ca;
  std::error_code code;
  std::string detail;
};

TEST(tls_stream, verification_failures_name_their_cause) {
  dusty::runtime rt(config());
  rt.run([] {
    std::vector<verify_case> cases = {
        {"self", "localhost", "ca", net::errc::tls_certificate_invalid, "certificate verify failed: self-signed certificate"},
        {"expired", "localhost", "ca", net::errc::tls_certificate_invalid, "certificate verify failed: certificate has expired"},
        {"server", "localhost", "other_ca", net::errc::tls_certificate_invalid,
         "certificate verify failed: unable to get local issuer certificate"},
        {"server", "b.test", "ca", net::errc::tls_host_name_mismatch,
         "host name mismatch: certificate is for localhost, a.test, 127.0.0.1, not b.test"},
        {"server", "127.0.0.2", "ca", net::errc::tls_host_name_mismatch,
         "host name mismatch: certificate is for localhost, a.test, 127.0.0.1, not 127.0.0.2"},
        {"b", "x.y.wild.test", "ca", net::errc::tls_host_name_mismatch,
         "host name mismatch: certificate is for b.test, *.wild.test, not x.y.wild.test"},
    };
    for (const auto& vc : cases) {
      auto p = make_pair_streams(tls::context::client(client_config_trusting(vc.ca)),
                                 tls::context::server(server_config_for(vc.server_cert)), {.host = vc.host});
      auto [cr, sr] = handshake_both(*p.client, *p.server);
      ASSERT_FALSE(cr) << vc.server_cert << " " << vc.host;
      EXPECT_EQ(cr.error(), vc.code) << cr.error().message();
      EXPECT_EQ(p.client->error_detail(), vc.detail);
      EXPECT_NE(p.client->verify_result(), X509_V_OK);
      // The server learns of it from the client's alert.
      EXPECT_EQ(sr.error(), net::errc::tls_handshake_failed) << p.server->error_detail();
    }
    // The names that do match: an IP address, a wildcard, a second DNS name.
    for (auto [cert_name, host] : {std::pair{"server", "127.0.0.1"}, {"server", "A.TEST"}, {"b", "x.wild.test"}}) {
      auto p = make_pair_streams(tls::context::client(client_config_trusting()),
                                 tls::context::server(server_config_for(cert_name)), {.host = host});
      auto [cr, sr] = handshake_both(*p.client, *p.server);
      EXPECT_TRUE(cr) << host << ": " << p.client->error_detail();
      EXPECT_TRUE(sr);
    }
    // insecure: anything goes, and the stream says it was not verified.
    tls::client_config insecure;
    insecure.insecure = true;
    auto p = make_pair_streams(tls::context::client(insecure), tls::context::server(server_config_for("self")),
                               {.host = "wrong.name"});
    auto [cr, sr] = handshake_both(*p.client, *p.server);
    EXPECT_TRUE(cr) << p.client->error_detail();
    EXPECT_FALSE(p.client->peer_verified());
  });
}

TEST(tls_stream, sni_picks_the_certificate_for_the_name) {
  dusty::runtime rt(config());
  rt.run([] {
    auto scfg = server_config_for();
    scfg.sni.push_back({"b.test", cert("b"), cert("b", ".key")});
    auto sctx = tls::context::server(scfg);
    auto cctx = tls::context::client(client_config_trusting());
    for (std::string host : {"b.test", "localhost"}) {
      auto p = make_pair_streams(cctx, sctx, {.host = host});
      auto [cr, sr] = handshake_both(*p.client, *p.server);
      // Verification of `host` passes only if the server picked the matching certificate.
      EXPECT_TRUE(cr) << host << ": " << p.client->error_detail();
      EXPECT_TRUE(sr);
      EXPECT_EQ(p.server->server_name(), host);
    }
  });
}

TEST(tls_stream, client_certificates_when_the_server_asks) {
  dusty::runtime rt(config());
  rt.run([] {
    auto scfg = server_config_for();
    scfg.client_ca_file = cert("ca");
    auto sctx = tls::context::server(scfg);
    auto with_cert = client_config_trusting();
    with_cert.cert_file = cert("client");
    with_cert.key_file = cert("client", ".key");
    {
      auto p = make_pair_streams(tls::context::client(with_cert), sctx);
      auto [cr, sr] = handshake_both(*p.client, *p.server);
      ASSERT_TRUE(cr) << p.client->error_detail();
      ASSERT_TRUE(sr) << p.server->error_detail();
      EXPECT_TRUE(p.server->peer_verified());
      // TLS 1.3: the client learns of a refusal only when it reads; here all is well.
      auto server = dusty::spawn([&] { tls_echo(*p.server); });
      ASSERT_TRUE(p.client->write(bytes("mtls"), soon()));
      EXPECT_EQ(read_string(*p.client, 4), "mtls");
      ASSERT_TRUE(p.client->shutdown(soon()));
      EXPECT_EQ(read_to_end(*p.client).second, errc::eof);
      server.join();
    }
    {
      auto p = make_pair_streams(tls::context::client(client_config_trusting()), sctx);
      auto [cr, sr] = handshake_both(*p.client, *p.server);
      EXPECT_EQ(sr.error(), net::errc::tls_handshake_failed);
      EXPECT_EQ(p.server->error_detail(), "peer did not return a certificate");
      if (cr) {  // TLS 1.3 client: the refusal arrives as an alert on its first read
        std::byte b[1];
        EXPECT_EQ(p.client->read_some(b, soon()).error(), net::errc::tls_protocol_error);
        EXPECT_NE(p.client->error_detail().find("alert"), std::string::npos) << p.client->error_detail();
      }
    }
  });
}

// 1,000 handshakes at once, from and to both shards (500 clients per shard, each
// connecting to the other shard's server).
TEST(tls_stream, a_thousand_concurrent_handshakes_on_two_shards) {
  dusty::runtime rt(config(2));
  rt.run([] {
    auto sctx = tls::context::server(server_config_for());
    auto cctx = tls::context::client(client_config_trusting());
    constexpr int per_shard = 500;
    // One deadline for all: the handshakes queue for two CPUs (slowly under sanitizers),
    // and this test is about concurrency, not speed.
    auto d = dusty::after(120s);
    std::atomic<int> ok{0};
    published_listener where[2];
    auto run_shard = [&](unsigned me) {
      auto mine = where[me].listen_here();
      auto other = where[1 - me].wait_for_address();
      std::vector<dusty::fiber> fibers;
      fibers.push_back(dusty::spawn([&] {
        std::vector<dusty::fiber> conns;
        for (int i = 0; i < per_shard; ++i) {
          auto c = mine.accept(d);
          ASSERT_TRUE(c) << c.error().message();
          conns.push_back(dusty::spawn([&, c = std::move(*c)]() mutable {
            tls::stream s(sctx, std::move(c));
            auto h = s.handshake(d);
            EXPECT_TRUE(h) << h.error().message() << ": " << s.error_detail();
            if (h) tls_echo(s);
          }));
        }
        for (auto& f : conns) f.join();
      }));
      for (int i = 0; i < per_shard; ++i) {
        fibers.push_back(dusty::spawn([&] {
          auto c = net::connect(other, d);
          ASSERT_TRUE(c) << c.error().message();
          tls::stream s(cctx, std::move(*c), {.host = "localhost"});
          auto h = s.handshake(d);
          ASSERT_TRUE(h) << s.error_detail();
          ASSERT_TRUE(s.write(bytes("!"), d));
          std::byte b[1];
          auto n = s.read_some(b, d);
          ASSERT_TRUE(n) << n.error().message() << ": " << s.error_detail();
          if (b[0] == std::byte{'!'}) ++ok;
          EXPECT_TRUE(s.shutdown(soon()));
          EXPECT_EQ(read_to_end(s).second, errc::eof);
        }));
      }
      for (auto& f : fibers) f.join();
      return tls::shard_counters().handshakes_ok;
    };
    auto before0 = tls::shard_counters().handshakes_ok;
    auto other = dusty::submit_to(1, [&] {
      auto before = tls::shard_counters().handshakes_ok;
      return run_shard(1) - before;
    });
    auto done0 = run_shard(0) - before0;
    auto done1 = other.get();
    EXPECT_EQ(ok.load(), 2 * per_shard);
    EXPECT_EQ(done0, 2u * per_shard);  // 500 as client, 500 as server
    EXPECT_EQ(done1, 2u * per_shard);
  });
}

}  // namespace
