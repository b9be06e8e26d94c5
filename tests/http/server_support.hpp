#pragma once
// Helpers for the end-to-end server tests (tests/http/server_*_test.cpp):
//
//  - runtime_thread: a dusty runtime on a background thread, with jobs posted to a fiber
//    of its shard 0, so a test thread can start, stop and restart servers in it;
//  - live_server<App>: a server on 127.0.0.1 port 0 in its own runtime_thread;
//  - raw_client: a blocking loopback socket with a strict HTTP/1.x response reader, for
//    pipelining, malformed input and timing tests;
//  - run_program: a child process (curl, python3, wrk) with both outputs captured.
//
// Every wait is bounded, so a server bug fails a test instead of hanging the suite.
#include "net/child_process.hpp"

#include "support/support.hpp"

#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/http/server.hpp>
#include <dusty/net/connection.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace dusty::http::server_test {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// How long any single wait of a test may take before it counts as a hang.
inline constexpr auto io_limit = 10s;

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

using dusty::test::two_shards;
using dusty::test::usable_cpus;

/// A one-shot flag one thread sets and another waits for, with a limit.
class flag {
 public:
  void set() {
    {
      std::lock_guard lock(m_);
      set_ = true;
    }
    cv_.notify_all();
  }
  bool wait(clock_type::duration limit = io_limit) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, limit, [&] { return set_; });
  }
  bool is_set() {
    std::lock_guard lock(m_);
    return set_;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool set_ = false;
};

/// Waits for `f` (a job of runtime_thread) at most `limit`; a job that never finishes
/// means the server hangs, and the process is ended rather than left hanging.
inline void finish(std::future<void>& f, clock_type::duration limit = 60s) {
  if (f.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr, "server test: a runtime job did not finish in time; aborting\n");
    std::abort();
  }
  f.get();
}

/// A runtime with `shards` shards running on its own thread. Jobs posted to it run one
/// after another in a fiber of shard 0 (where a server is started and stopped).
class runtime_thread {
 public:
  explicit runtime_thread(unsigned shards = 1) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw std::system_error(errno, std::generic_category());
    ctl_ = fds[0];
    int runtime_end = fds[1];
    ::fcntl(runtime_end, F_SETFL, ::fcntl(runtime_end, F_GETFL) | O_NONBLOCK);
    thread_ = std::thread([this, shards, runtime_end] {
      try {
        runtime_config c;
        c.shards = shards;
        c.handle_signals = false;
        runtime rt(c);
        rt.run([this, runtime_end] { serve_jobs(runtime_end); });
      } catch (const std::exception& e) {
        error_ = e.what();
        ::close(runtime_end);
      }
      ended_.set();
    });
  }
  runtime_thread(const runtime_thread&) = delete;
  runtime_thread& operator=(const runtime_thread&) = delete;
  ~runtime_thread() {
    char quit = 'q';
    (void)::send(ctl_, &quit, 1, MSG_NOSIGNAL);
    if (!ended_.wait(60s)) {
      std::fprintf(stderr, "server test: the runtime did not stop in time; aborting\n");
      std::abort();
    }
    thread_.join();
    ::close(ctl_);
    if (!error_.empty()) ADD_FAILURE() << "runtime failed: " << error_;
  }

  /// Runs `job` in the runtime (shard 0, in a fiber) after the jobs posted before it.
  std::future<void> post(std::function<void()> job) {
    std::packaged_task<void()> task(std::move(job));
    auto f = task.get_future();
    {
      std::lock_guard lock(m_);
      jobs_.push_back(std::move(task));
    }
    char go = 'j';
    if (::send(ctl_, &go, 1, MSG_NOSIGNAL) != 1) ADD_FAILURE() << "runtime control socket failed";
    return f;
  }
  /// post(job) and wait for it; rethrows what the job threw.
  void call(std::function<void()> job) {
    auto f = post(std::move(job));
    finish(f);
  }

 private:
  void serve_jobs(int fd) {
    net::connection ctl(fd);
    for (;;) {
      std::byte b[1];
      auto n = ctl.read_some(b);
      if (!n || static_cast<char>(b[0]) == 'q') return;
      std::packaged_task<void()> task;
      {
        std::lock_guard lock(m_);
        task = std::move(jobs_.front());
        jobs_.pop_front();
      }
      task();
    }
  }

  int ctl_ = -1;
  std::thread thread_;
  std::mutex m_;
  std::deque<std::packaged_task<void()>> jobs_;
  flag ended_;
  std::string error_;
};

/// A config for tests: loopback, a port the kernel picks.
inline server_config local_config() {
  server_config c;
  c.address = "127.0.0.1";
  c.port = 0;
  return c;
}

/// A received response.
struct parsed_response {
  unsigned version = 0;  ///< 10 or 11
  unsigned status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool chunked = false;
  bool until_close = false;  ///< The body was delimited by the end of the connection.
  std::vector<std::size_t> chunk_sizes;

  std::optional<std::string> header(std::string_view name) const {
    for (auto& [n, v] : headers)
      if (lower(n) == lower(name)) return v;
    return std::nullopt;
  }
  std::size_t count(std::string_view name) const {
    std::size_t k = 0;
    for (auto& h : headers) k += lower(h.first) == lower(name);
    return k;
  }
  bool closes() const {
    auto c = header("connection");
    return c && lower(*c) == "close";
  }
};

/// A blocking client socket with bounded waits.
class raw_client {
 public:
  static raw_client tcp(std::uint16_t port, int rcvbuf = 0) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ADD_FAILURE() << "connect to 127.0.0.1:" << port << ": " << std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
    int one = 1;
    if (fd >= 0) ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return raw_client(fd);
  }
  static raw_client unix_socket(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ADD_FAILURE() << "connect to unix:" << path << ": " << std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
    return raw_client(fd);
  }
  /// errno of a plain connect to 127.0.0.1:port (0 when it connected).
  static int connect_error(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 ? 0 : errno;
    ::close(fd);
    return r;
  }

  explicit raw_client(int fd) noexcept : fd_(fd) {}
  raw_client(raw_client&& o) noexcept : fd_(std::exchange(o.fd_, -1)), buf_(std::move(o.buf_)) {}
  raw_client& operator=(raw_client&& o) noexcept {
    std::swap(fd_, o.fd_);
    std::swap(buf_, o.buf_);
    return *this;
  }
  ~raw_client() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  /// Bytes received and not yet parsed.
  const std::string& buffered() const { return buf_; }

  /// Sends all of `bytes`; false (no test failure) if the peer is gone.
  bool try_send(std::string_view bytes) {
    while (!bytes.empty()) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(io_limit).count())) != 1) return false;
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  void send(std::string_view bytes) {
    if (!try_send(bytes)) ADD_FAILURE() << "send failed: " << std::strerror(errno);
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  enum class fill_result { data, eof, reset, timeout };
  /// Receives more bytes into buffered().
  fill_result fill(clock_type::time_point until) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_type::now()).count();
      pollfd p{fd_, POLLIN, 0};
      if (left < 0 || ::poll(&p, 1, static_cast<int>(left)) != 1) return fill_result::timeout;
      char tmp[65536];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n > 0) {
        buf_.append(tmp, static_cast<std::size_t>(n));
        return fill_result::data;
      }
      if (n == 0) return fill_result::eof;
      if (errno == EINTR || errno == EAGAIN) continue;
      return fill_result::reset;
    }
  }

  /// Reads one response (a 1xx one too). `head_request`: it answers a HEAD, so it has no
  /// body. Fails the test and returns nothing on a malformed response, EOF or timeout.
  std::optional<parsed_response> read_response(bool head_request = false, clock_type::duration limit = io_limit) {
    auto until = clock_type::now() + limit;
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (auto r = fill(until); r != fill_result::data) return failed("waiting for a response head", r);
    }
    parsed_response res;
    std::string_view head(buf_.data(), end + 2);
    auto line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    bool well_formed = line.size() >= 12 && line.substr(0, 7) == "HTTP/1." && line[8] == ' ' &&
                       std::isdigit(static_cast<unsigned char>(line[9])) && std::isdigit(static_cast<unsigned char>(line[10])) &&
                       std::isdigit(static_cast<unsigned char>(line[11])) && (line.size() == 12 || line[12] == ' ');
    if (!well_formed) {
      ADD_FAILURE() << "bad status line: " << line;
      return std::nullopt;
    }
    if (line.substr(5, 3) == "1.1")
      res.version = 11;
    else if (line.substr(5, 3) == "1.0")
      res.version = 10;
    std::from_chars(line.data() + 9, line.data() + 12, res.status);
    res.reason = std::string(line.substr(std::min<std::size_t>(13, line.size())));
    head.remove_prefix(line_end + 2);
    while (!head.empty()) {
      auto e = head.find("\r\n");
      std::string_view field = head.substr(0, e);
      head.remove_prefix(e + 2);
      auto colon = field.find(':');
      if (colon == std::string_view::npos || field.find('\n') != std::string_view::npos) {
        ADD_FAILURE() << "bad header line: " << field;
        return std::nullopt;
      }
      auto value = field.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      res.headers.emplace_back(std::string(field.substr(0, colon)), std::string(value));
    }
    buf_.erase(0, end + 4);

    bool no_body = head_request || res.status / 100 == 1 || res.status == 204 || res.status == 304;
    if (no_body) return res;
    if (auto te = res.header("transfer-encoding")) {
      if (lower(*te) != "chunked") {
        ADD_FAILURE() << "unexpected Transfer-Encoding: " << *te;
        return std::nullopt;
      }
      res.chunked = true;
      if (!read_chunked(res, until)) return std::nullopt;
      return res;
    }
    if (auto cl = res.header("content-length")) {
      std::size_t n = 0;
      std::from_chars(cl->data(), cl->data() + cl->size(), n);
      while (buf_.size() < n) {
        if (auto r = fill(until); r != fill_result::data) return failed("reading a Content-Length body", r);
      }
      res.body = buf_.substr(0, n);
      buf_.erase(0, n);
      return res;
    }
    res.until_close = true;
    for (;;) {
      auto r = fill(until);
      if (r == fill_result::eof) break;
      if (r != fill_result::data) return failed("reading a body delimited by close", r);
    }
    res.body = std::move(buf_);
    buf_.clear();
    return res;
  }

  /// Waits until the peer closes (EOF or reset). Bytes that arrive first are appended to
  /// `extra` (callers usually expect none). False on timeout.
  bool wait_closed(clock_type::duration limit = io_limit, std::string* extra = nullptr) {
    auto until = clock_type::now() + limit;
    for (;;) {
      auto r = fill(until);
      if (r == fill_result::timeout) return false;
      if (r != fill_result::data) break;
    }
    if (extra) *extra += buf_;
    buf_.clear();
    return true;
  }

  /// True when nothing arrives (no bytes, no close) within `quiet`.
  bool silent_for(clock_type::duration quiet) {
    pollfd p{fd_, POLLIN, 0};
    return buf_.empty() && ::poll(&p, 1, static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(quiet).count())) == 0;
  }

 private:
  std::optional<parsed_response> failed(const char* what, fill_result r) {
    const char* why = r == fill_result::eof ? "connection closed" : r == fill_result::reset ? "connection reset" : "timed out";
    ADD_FAILURE() << what << ": " << why << "; received so far: " << buf_.substr(0, 300);
    return std::nullopt;
  }

  bool read_chunked(parsed_response& res, clock_type::time_point until) {
    auto need = [&](std::size_t n) {
      while (buf_.size() < n)
        if (fill(until) != fill_result::data) return false;
      return true;
    };
    auto line = [&](std::string& out) {
      std::size_t e;
      while ((e = buf_.find("\r\n")) == std::string::npos)
        if (fill(until) != fill_result::data) return false;
      out = buf_.substr(0, e);
      buf_.erase(0, e + 2);
      return true;
    };
    for (;;) {
      std::string size_line;
      if (!line(size_line)) return !failed("reading a chunk size", fill_result::eof);
      std::size_t size = 0;
      auto [p, ec] = std::from_chars(size_line.data(), size_line.data() + size_line.size(), size, 16);
      if (ec != std::errc() || size_line.empty() || p != size_line.data() + size_line.size()) {
        ADD_FAILURE() << "bad chunk size line: " << size_line;
        return false;
      }
      if (size == 0) break;
      if (!need(size + 2)) return !failed("reading chunk data", fill_result::eof);
      if (buf_.compare(size, 2, "\r\n") != 0) {
        ADD_FAILURE() << "chunk data not followed by CRLF";
        return false;
      }
      res.body.append(buf_, 0, size);
      res.chunk_sizes.push_back(size);
      buf_.erase(0, size + 2);
    }
    for (;;) {  // trailer section
      std::string t;
      if (!line(t)) return !failed("reading the chunked trailer", fill_result::eof);
      if (t.empty()) return true;
    }
  }

  int fd_ = -1;
  std::string buf_;
};

/// A GET with Connection: close on a fresh connection.
inline std::optional<parsed_response> get_once(std::uint16_t port, std::string_view path) {
  auto c = raw_client::tcp(port);
  c.send("GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
  return c.read_response();
}

/// "GET <path> HTTP/1.1" with a Host field and `extra` header lines (each ending in CRLF).
inline std::string get_request(std::string_view path, std::string_view extra = {}) {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra) + "\r\n";
}

/// A server<App> listening on 127.0.0.1:<some port>, in a runtime of its own.
template <class App = void>
class live_server {
 public:
  using routes_fn = std::function<void(server<App>&)>;

  explicit live_server(routes_fn routes, server_config config = local_config(), unsigned shards = 1) : rt_(shards) {
    rt_.call([&] {
      srv_ = std::make_unique<server<App>>(std::move(config));
      routes(*srv_);
      srv_->start();
      address_ = srv_->address();
    });
  }
  ~live_server() {
    rt_.call([this] { srv_.reset(); });
  }

  std::uint16_t port() const { return address_.port(); }
  const net::socket_address& address() const { return address_; }
  raw_client connect(int rcvbuf = 0) const { return raw_client::tcp(port(), rcvbuf); }
  std::string url(std::string_view path = "/") const { return "http://127.0.0.1:" + std::to_string(port()) + std::string(path); }

  /// Begins the graceful stop; the future is ready once stop() has returned.
  std::future<void> stop_async() {
    return rt_.post([this] { srv_->stop(); });
  }
  runtime_thread& runtime() { return rt_; }
  /// The server's counters, one per shard (server::stats()).
  std::vector<server_stats> stats() {
    std::vector<server_stats> s;
    rt_.call([&] { s = srv_->stats(); });
    return s;
  }

 private:
  runtime_thread rt_;
  std::unique_ptr<server<App>> srv_;
  net::socket_address address_;
};

/// What a finished child process left.
struct program_result {
  std::optional<int> status;  ///< exit status; nothing if it had to be killed
  std::string out;
  std::string err;
};

/// Runs `args` (argv[0] a path) with stdout and stderr captured, for at most `limit`.
inline program_result run_program(const std::vector<std::string>& args, clock_type::duration limit = 30s) {
  net::testing::child c(args);
  program_result r;
  if (!c.started()) return r;
  auto until = clock_type::now() + limit;
  pollfd fds[2] = {{c.stdout_fd(), POLLIN, 0}, {c.stderr_fd(), POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open = 2;
  while (open > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_type::now()).count();
    if (left <= 0 || ::poll(fds, 2, static_cast<int>(left)) <= 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !fds[i].revents) continue;
      char buf[8192];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else {
        fds[i].fd = -1;
        --open;
      }
    }
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_type::now());
  r.status = c.wait(std::max(left, std::chrono::milliseconds(1)));
  if (!r.status) ADD_FAILURE() << args[0] << " did not finish in time";
  return r;
}

/// The directory of the build tree (set by ctest; else found from this binary's path).
inline std::filesystem::path binary_dir() {
  if (const char* dir = std::getenv("DUSTY_BINARY_DIR")) return dir;
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path();
}

/// Which Python to run: Debian's, which has python3-requests.
inline const char* python_path() { return "/usr/bin/python3"; }

using dusty::test::temp_dir;

/// Deterministic filler bytes that make offsets recognisable: "0123456789abcdef..." shifted.
inline std::string pattern(std::size_t n, unsigned seed = 0) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[(i * 7 + seed + i / 36) % 36];
  return s;
}

/// `body` in chunked coding, cut into pieces of `piece` bytes.
inline std::string chunked(std::string_view body, std::size_t piece) {
  std::string out;
  char size[20];
  while (!body.empty()) {
    auto n = std::min(piece, body.size());
    auto r = std::to_chars(size, size + sizeof size, n, 16);
    out.append(size, r.ptr).append("\r\n").append(body.substr(0, n)).append("\r\n");
    body.remove_prefix(n);
  }
  return out + "0\r\n\r\n";
}

}  // namespace dusty::http::server_test
