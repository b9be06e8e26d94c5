#pragma once
// Helpers every test binary shares: a runtime with n shards and a watchdog, socket and
// pipe pairs, byte views, how many CPUs a test may use, and scratch directories.
#include <dusty/core/deadline.hpp>
#include <dusty/core/reactor.hpp>
#include <dusty/core/runtime.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dusty::test {

/// A runtime config with `n` shards that leaves the process's signals alone.
inline runtime_config shards(unsigned n) {
  runtime_config c;
  c.shards = n;
  c.handle_signals = false;
  return c;
}

/// Runs `main` as the runtime's main fiber under a watchdog: if a wake-up is lost and the
/// main fiber is still waiting after `limit`, its wait is interrupted and run() throws
/// timeout_error, so the test fails instead of hanging.
template <class F>
void run(runtime& rt, F main, std::chrono::seconds limit = std::chrono::seconds(60)) {
  rt.run([&] { with_timeout(limit, main); });
}

/// Closes with reactor::close, so a shard's reactor forgets the descriptor before its
/// number can be reused.
struct fd_pair {
  int fd[2] = {-1, -1};
  fd_pair() = default;
  fd_pair(const fd_pair&) = delete;
  fd_pair& operator=(const fd_pair&) = delete;
  ~fd_pair() {
    reactor::close(fd[0]);
    reactor::close(fd[1]);
  }
};

/// A connected pair of non-blocking Unix stream sockets.
struct socket_pair : fd_pair {
  socket_pair() {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd) != 0)
      throw std::runtime_error("socketpair failed");
  }
};

/// A non-blocking pipe: fd[0] reads, fd[1] writes.
struct pipe_pair : fd_pair {
  pipe_pair() {
    if (::pipe2(fd, O_NONBLOCK | O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  }
};

inline std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

/// Sets an environment variable for the lifetime of the object, then restores it.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~scoped_env() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

/// CPUs this process may run on (the most shards a runtime accepts).
inline unsigned usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return ::sched_getaffinity(0, sizeof set, &set) == 0 ? static_cast<unsigned>(CPU_COUNT(&set)) : 1;
}

/// Two shards where the machine has two CPUs (every CI box here does), else one: the
/// default for a test that involves more than one shard.
inline unsigned two_shards() { return usable_cpus() >= 2 ? 2 : 1; }

/// A fresh directory under /tmp, removed with its contents.
class temp_dir {
 public:
  temp_dir() {
    char name[] = "/tmp/dusty-test-XXXXXX";
    if (!::mkdtemp(name)) ADD_FAILURE() << "mkdtemp failed";
    path_ = name;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string path(std::string_view leaf) const { return path_ + "/" + std::string(leaf); }
  /// Writes `content` to the file `leaf` and returns its path.
  std::string write(std::string_view leaf, std::string_view content) const {
    auto p = path(leaf);
    FILE* f = std::fopen(p.c_str(), "wb");
    if (!f) {
      ADD_FAILURE() << "cannot create " << p;
      return p;
    }
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
    return p;
  }

 private:
  std::string path_;
};

}  // namespace dusty::test
