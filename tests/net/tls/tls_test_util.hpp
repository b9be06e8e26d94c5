#pragma once
// Helpers shared by the TLS tests: certificates made once per test process (by
// make_certs.py beside this file, into a temporary directory removed at exit), contexts
// built from them, and a loopback pair of TLS streams.
#include <dusty/net/tls/context.hpp>
#include <dusty/net/tls/stream.hpp>

#include "net/child_process.hpp"
#include "net/test_util.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

namespace dusty::net::testing {

namespace tls = dusty::net::tls;

/// The directory with the test certificates (see make_certs.py for the list).
inline const std::string& cert_dir() {
  static temp_dir dir;
  static const std::string path = [] {
    std::string script = std::filesystem::path(__FILE__).parent_path() / "make_certs.py";
    if (const char* src = std::getenv("DUSTY_SOURCE_DIR")) script = std::string(src) + "/tests/net/tls/make_certs.py";
    std::string where = dir.path("");
    child maker({"/usr/bin/python3", script, where});
    auto status = maker.wait(std::chrono::seconds(60));
    if (status != 0) {
      ADD_FAILURE() << "make_certs.py failed: "
                    << read_all(maker.stderr_fd(), std::chrono::steady_clock::now() + std::chrono::seconds(1));
    }
    return where;
  }();
  return path;
}

/// "<cert_dir>/<name>.pem", or with ext ".key".
inline std::string cert(const std::string& name, const char* ext = ".pem") { return cert_dir() + "/" + name + ext; }

inline tls::server_config server_config_for(const std::string& name = "server") {
  tls::server_config c;
  c.cert_file = cert(name);
  c.key_file = cert(name, ".key");
  return c;
}

inline tls::client_config client_config_trusting(const std::string& ca = "ca") {
  tls::client_config c;
  c.ca_file = cert(ca);
  return c;
}

/// A connected pair over loopback TCP: {client end, server end}, with TCP_NODELAY.
inline std::pair<connection, connection> nodelay_pair() {
  auto [c, s] = tcp_pair();
  EXPECT_TRUE(c.set_nodelay(true));
  EXPECT_TRUE(s.set_nodelay(true));
  return {std::move(c), std::move(s)};
}

/// Runs a client and a server handshake at once (server in its own fiber), and returns
/// both results: {client, server}.
inline std::pair<result<void>, result<void>> handshake_both(tls::stream& client, tls::stream& server,
                                                            deadline d = after(std::chrono::seconds(10))) {
  result<void> server_result;
  auto f = spawn([&] { server_result = server.handshake(d); });
  auto client_result = client.handshake(d);
  // A client that failed may leave the server waiting for more: end its connection.
  if (!client_result) client.close();
  f.join();
  return {client_result, server_result};
}

/// Reads from `s` until end of stream (or an error); returns what was read and the
/// error that ended it.
inline std::pair<std::string, std::error_code> read_to_end(stream& s, deadline d = soon()) {
  std::string all;
  char buf[16384];
  for (;;) {
    auto n = s.read_some(std::as_writable_bytes(std::span(buf)), d);
    if (!n) return {all, n.error()};
    all.append(buf, *n);
  }
}

}  // namespace dusty::net::testing
