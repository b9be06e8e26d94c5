#pragma once
// Child processes for the tests that need one (the echo app, the seccomp fallback):
// spawning with captured output, and waiting with a time limit (pidfd + poll, so no
// sleeping and no hang).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

extern char** environ;

namespace dusty::net::testing {

/// Waits up to `limit` for `pid` to exit and reaps it. Returns its exit status, or
/// 128 + the signal that ended it; nothing if it is still running.
inline std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds limit) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return std::nullopt;
  pollfd p{pidfd, POLLIN, 0};
  int ready = ::poll(&p, 1, static_cast<int>(limit.count()));
  ::close(pidfd);
  if (ready != 1) return std::nullopt;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return std::nullopt;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Reads from `fd` until a newline (returned without it), end of file or the deadline.
inline std::optional<std::string> read_line(int fd, std::chrono::steady_clock::time_point until) {
  std::string line;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1) return std::nullopt;
    char c;
    ssize_t n = ::read(fd, &c, 1);
    if (n <= 0) return line.empty() ? std::nullopt : std::optional(line);
    if (c == '\n') return line;
    line += c;
  }
}

/// Reads everything until end of file (the writer exited) or the deadline.
inline std::string read_all(int fd, std::chrono::steady_clock::time_point until) {
  std::string all;
  while (auto line = read_line(fd, until)) all += *line + "\n";
  return all;
}

/// A program started with its stdout and stderr captured; killed if still running when
/// the object goes away.
class child {
 public:
  explicit child(const std::vector<std::string>& args) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2 failed";
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int r = ::posix_spawn(&pid_, argv[0], &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
    if (r != 0) {
      ADD_FAILURE() << "cannot start " << args[0] << ": " << std::strerror(r);
      pid_ = -1;
    }
  }
  ~child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait_exit(pid_, std::chrono::seconds(10));
    }
    if (out_ >= 0) ::close(out_);
    if (err_ >= 0) ::close(err_);
  }
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  bool started() const { return pid_ > 0; }
  int stdout_fd() const { return out_; }
  int stderr_fd() const { return err_; }
  void signal(int sig) const { ::kill(pid_, sig); }

  /// The exit status (see wait_exit), or nothing if it did not exit within `limit`.
  std::optional<int> wait(std::chrono::milliseconds limit) {
    auto status = wait_exit(pid_, limit);
    if (status) pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
};

}  // namespace dusty::net::testing
