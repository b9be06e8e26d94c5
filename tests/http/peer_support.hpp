#pragma once
// Real HTTP servers written by others, started by a test on loopback for the client to
// talk to (tests/http/client_peers_test.cpp, fetch_app_test.cpp):
//
//  - nginx_peer: Debian's nginx in the foreground, one process, with a config and a
//    document root in a temp dir;
//  - httpbin_peer: Debian's python3-httpbin served by gunicorn.
//
// Ports are picked free (bind to port 0, read it back, close) and handed to the server;
// should another process take the port in between, the server fails to start and is
// started again on another one. Every wait is bounded.
#include "http/server_support.hpp"

#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace dusty::http::peer_test {

using namespace std::chrono_literals;
using server_test::clock_type;

/// A TCP port on 127.0.0.1 that nobody listens on right now.
inline std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

/// Whether a program exists and is executable.
inline bool have_program(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

/// Whether Python can import `module` (e.g. "httpbin").
inline bool have_python_module(const std::string& module) {
  auto r = server_test::run_program({server_test::python_path(), "-c", "import " + module}, 30s);
  return r.status == 0;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A server process that is up once it accepts connections on its port.
class peer_process {
 public:
  peer_process() = default;
  peer_process(const peer_process&) = delete;
  peer_process& operator=(const peer_process&) = delete;
  ~peer_process() { stop(); }

  /// Starts `args` and waits until 127.0.0.1:port accepts a connection. False if the
  /// program exited first or did not listen within `limit`.
  bool start(const std::vector<std::string>& args, std::uint16_t port, clock_type::duration limit = 20s) {
    stop();
    child_ = std::make_unique<net::testing::child>(args);
    if (!child_->started()) return false;
    auto until = clock_type::now() + limit;
    while (clock_type::now() < until) {
      if (server_test::raw_client::connect_error(port) == 0) return true;
      if (child_->wait(25ms)) {  // it exited: the port was taken, or a bad config
        child_.reset();
        return false;
      }
    }
    return false;
  }
  /// SIGINT (a quick shutdown for both nginx and gunicorn, whose master then ends its
  /// workers too), then SIGKILL if it lingers.
  void stop() {
    // started() turns false once the child has been reaped: never signal then (kill
    // with pid -1 would reach every process).
    if (child_ && child_->started()) {
      child_->signal(SIGINT);
      child_->wait(5s);
    }
    child_.reset();
  }
  bool running() const { return child_ != nullptr; }

 private:
  std::unique_ptr<net::testing::child> child_;
};

/// nginx serving a temp dir. Files are written with add_file before start(); the config
/// is written by start() from the server block's `locations` (nginx.conf syntax; the
/// placeholders $DIR and $PORT are replaced).
class nginx_peer {
 public:
  static constexpr const char* program = "/usr/sbin/nginx";
  static bool available() { return have_program(program); }

  nginx_peer() {
    std::filesystem::create_directories(dir_.path("www"));
    std::filesystem::create_directories(dir_.path("tmp"));
  }

  /// Writes www/<path> (sub-directories are created).
  void add_file(const std::string& path, std::string_view content) {
    auto p = std::filesystem::path(dir_.path("www")) / path;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary).write(content.data(), static_cast<std::streamsize>(content.size()));
  }

  /// Starts nginx with `http_settings` in the http block and `locations` in the server
  /// block. Fails the test (and returns false) when it does not come up.
  bool start(const std::string& http_settings, const std::string& locations) {
    return start_server("", http_settings, locations);
  }

  /// Starts nginx serving HTTPS on its port (url() then says https://) with the PEM
  /// certificate chain `cert` and key `key`; `tls_settings` go into the server block too
  /// (e.g. "ssl_verify_client on; ssl_client_certificate /x/ca.pem;"). TLS 1.2 and 1.3.
  bool start_tls(const std::string& cert, const std::string& key, const std::string& tls_settings,
                 const std::string& http_settings, const std::string& locations) {
    scheme_ = "https";
    return start_server(" ssl",
                        http_settings,
                        "    ssl_certificate " + cert + ";\n    ssl_certificate_key " + key +
                            ";\n    ssl_protocols TLSv1.2 TLSv1.3;\n" + tls_settings + "\n" + locations);
  }

 private:
  bool start_server(const std::string& listen_options, const std::string& http_settings, const std::string& locations) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = free_port();
      std::string conf =
          "daemon off;\n"
          "master_process off;\n"
          "worker_processes 1;\n"
          "pid $DIR/nginx.pid;\n"
          "error_log $DIR/error.log warn;\n"
          "events { worker_connections 512; }\n"
          "http {\n"
          "  access_log $DIR/access.log;\n"
          "  client_body_temp_path $DIR/tmp/body;\n"
          "  proxy_temp_path $DIR/tmp/proxy;\n"
          "  fastcgi_temp_path $DIR/tmp/fastcgi;\n"
          "  uwsgi_temp_path $DIR/tmp/uwsgi;\n"
          "  scgi_temp_path $DIR/tmp/scgi;\n"
          "  types { text/plain txt; text/html html; application/json json; application/octet-stream bin; }\n"
          "  default_type application/octet-stream;\n" +
          http_settings +
          "  server {\n"
          "    listen 127.0.0.1:$PORT" + listen_options + ";\n"
          "    root $DIR/www;\n" +
          locations + "  }\n}\n";
      conf = substitute(conf);
      std::ofstream(dir_.path("nginx.conf")) << conf;
      if (process_.start({program, "-p", dir_.path(""), "-e", dir_.path("error.log"), "-c", dir_.path("nginx.conf")}, port_))
        return true;
    }
    ADD_FAILURE() << "nginx did not start; error.log:\n" << read_file(dir_.path("error.log"));
    return false;
  }

 public:
  std::uint16_t port() const { return port_; }
  /// "http://127.0.0.1:<port><path>" (https:// after start_tls).
  std::string url(std::string_view path) const {
    return scheme_ + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  /// The same with another host name for 127.0.0.1 ("localhost").
  std::string url_for(std::string_view host, std::string_view path) const {
    return scheme_ + "://" + std::string(host) + ":" + std::to_string(port_) + std::string(path);
  }
  std::string path(std::string_view leaf) const { return dir_.path(leaf); }

  /// Lines in the log file `leaf` (e.g. an access_log of one location).
  std::size_t log_lines(std::string_view leaf) const {
    auto text = read_file(dir_.path(leaf));
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  }
  /// Waits (bounded) until `leaf` has at least `n` lines, then returns its line count:
  /// nginx writes a log line right after the response, so it may trail the client by
  /// a moment.
  std::size_t wait_log_lines(std::string_view leaf, std::size_t n, clock_type::duration limit = 5s) const {
    auto until = clock_type::now() + limit;
    while (log_lines(leaf) < n && clock_type::now() < until) std::this_thread::sleep_for(10ms);
    return log_lines(leaf);
  }

 private:
  std::string substitute(std::string s) const {
    auto replace = [&](std::string_view from, const std::string& to) {
      for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
    };
    std::string dir = dir_.path("");
    dir.pop_back();  // no trailing '/'
    replace("$DIR", dir);
    replace("$PORT", std::to_string(port_));
    return s;
  }

  server_test::temp_dir dir_;
  std::uint16_t port_ = 0;
  std::string scheme_ = "http";
  peer_process process_;
};

/// httpbin (python3-httpbin) under gunicorn, with threads so that a slow request
/// (/delay/N) does not hold up the others.
class httpbin_peer {
 public:
  /// Asked once per process: importing httpbin takes Python about half a second.
  static bool available() {
    static const bool yes = have_program(server_test::python_path()) && have_python_module("httpbin, gunicorn");
    return yes;
  }

  bool start() {
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = free_port();
      if (process_.start({server_test::python_path(), "-m", "gunicorn", "-b", "127.0.0.1:" + std::to_string(port_), "--threads", "8",
                          "--error-logfile", dir_.path("gunicorn.log"), "httpbin:app"},
                         port_))
        return true;
    }
    ADD_FAILURE() << "gunicorn (httpbin) did not start; log:\n" << read_file(dir_.path("gunicorn.log"));
    return false;
  }

  std::uint16_t port() const { return port_; }
  std::string url(std::string_view path) const { return "http://127.0.0.1:" + std::to_string(port_) + std::string(path); }

 private:
  server_test::temp_dir dir_;
  std::uint16_t port_ = 0;
  peer_process process_;
};

}  // namespace dusty::http::peer_test
