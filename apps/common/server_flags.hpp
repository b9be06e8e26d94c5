#pragma once
// The flags every dusty server app takes: --port, --address, --shards, --backend,
// --max-connections, and --tls-cert/--tls-key for HTTPS.
// Errors are one line for stderr; apps exit with status 2 on them.
#include <dusty/core/runtime.hpp>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace dusty::apps {

struct server_flags {
  std::uint16_t port;
  std::string address = "0.0.0.0";
  std::optional<unsigned> shards;
  backend_kind backend = backend_kind::automatic;
  std::optional<std::size_t> max_connections;  ///< --max-connections: per shard.
  std::string tls_cert;  ///< --tls-cert: PEM certificate chain; set, the app serves HTTPS.
  std::string tls_key;   ///< --tls-key: PEM private key of that certificate.

  dusty::runtime_config runtime() const {
    dusty::runtime_config c;
    c.shards = shards;
    c.backend = backend;
    return c;
  }
};

inline std::string server_flags_usage(std::string_view app, std::uint16_t default_port) {
  return "usage: " + std::string(app) +
          " [--port N] [--address A] [--shards N] [--backend auto|io_uring|epoll]\n"
         "       [--tls-cert FILE --tls-key FILE]\n"
         "  --port N      TCP port; 0 lets the kernel choose (printed at start). Default: " +
         std::to_string(default_port) +
         "\n"
         "  --address A   IPv4 or IPv6 address to listen on (echo also takes unix:/path).\n"
         "                Default: 0.0.0.0\n"
         "  --shards N    threads, one per CPU. Default: every CPU this process may use\n"
         "  --backend B   reactor backend. Default: auto (io_uring, else epoll; DUSTY_BACKEND)\n"
         "  --max-connections N\n"
         "                open connections per shard, idle ones included; more get 503.\n"
         "                Default: 10000\n"
         "  --tls-cert F  PEM certificate chain (leaf first): serve HTTPS on --port.\n"
         "                SIGHUP reloads it and the key for new connections. Default: none\n"
         "  --tls-key F   PEM private key of --tls-cert. Default: none\n";
}

/// Parses argv into `f`; returns an error message, or nothing. --help prints the usage
/// and exits 0.
inline std::optional<std::string> parse_server_flags(int argc, char** argv, std::string_view app, server_flags& f) {
  auto number = [](std::string_view s, auto& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size();
  };
  std::uint16_t default_port = f.port;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(server_flags_usage(app, default_port).c_str(), stdout);
      std::exit(0);
    }
    std::string_view value;
    if (auto eq = flag.find('='); eq != std::string_view::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else {
      if (i + 1 >= argc) return std::string(flag) + ": missing value";
      value = argv[++i];
    }
    if (flag == "--port") {
      if (!number(value, f.port)) return "--port: expected a number from 0 to 65535, got '" + std::string(value) + "'";
    } else if (flag == "--address") {
      f.address = value;
    } else if (flag == "--shards") {
      unsigned n = 0;
      if (!number(value, n)) return "--shards: expected a number, got '" + std::string(value) + "'";
      f.shards = n;
    } else if (flag == "--backend") {
      auto b = parse_backend_kind(value);
      if (!b) return "--backend: expected auto, io_uring or epoll, got '" + std::string(value) + "'";
      f.backend = *b;
    } else if (flag == "--max-connections") {
      std::size_t n = 0;
      if (!number(value, n) || n == 0)
        return "--max-connections: expected a positive number, got '" + std::string(value) + "'";
      f.max_connections = n;
    } else if (flag == "--tls-cert") {
      f.tls_cert = value;
    } else if (flag == "--tls-key") {
      f.tls_key = value;
    } else {
      return "unknown flag " + std::string(flag) + " (see --help)";
    }
  }
  if (f.tls_cert.empty() != f.tls_key.empty())
    return f.tls_cert.empty() ? "--tls-key needs --tls-cert" : "--tls-cert needs --tls-key";
  return std::nullopt;
}

/// Prints "app: message" on stderr and returns exit status 2.
inline int config_failure(std::string_view app, const std::string& message) {
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(app.size()), app.data(), message.c_str());
  return 2;
}

}  // namespace dusty::apps
