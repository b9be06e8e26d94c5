#pragma once
// pipe_pool: the pipes a shard splices file pages through on their way to a socket
// (io_uring has no sendfile). A pipe is taken for one send and comes back only empty:
// one that still holds bytes (the send failed, or its fiber was cancelled) is closed,
// so no byte of one response can ever reach another. Shard-local; no locking.
#include <cstddef>
#include <utility>
#include <vector>

namespace dusty::detail {

class pipe_pool {
 public:
  struct pipe_fds {
    int read = -1;
    int write = -1;
  };

  pipe_pool() = default;
  pipe_pool(const pipe_pool&) = delete;
  pipe_pool& operator=(const pipe_pool&) = delete;
  ~pipe_pool();

  /// An empty pipe (non-blocking, close-on-exec, enlarged to capacity() where the system
  /// allows), or {-1, -1} with errno set (EMFILE).
  pipe_fds take();
  /// Returns an empty pipe; beyond max_kept, it is closed instead.
  void give_back(pipe_fds p) noexcept;
  static void close(pipe_fds p) noexcept;
  /// The most bytes one splice round asks to move (a smaller pipe takes less).
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  static constexpr std::size_t max_kept = 64;
  std::vector<pipe_fds> free_;
  std::size_t capacity_ = 64 * 1024;  // Linux's default; grows to what F_SETPIPE_SZ grants
};

/// A pipe taken from a pool for one scope: closed on exit unless given back empty.
class pipe_lease {
 public:
  explicit pipe_lease(pipe_pool& pool) : pool_(pool), fds_(pool.take()) {}
  pipe_lease(const pipe_lease&) = delete;
  pipe_lease& operator=(const pipe_lease&) = delete;
  ~pipe_lease() { pipe_pool::close(fds_); }
  explicit operator bool() const noexcept { return fds_.read >= 0; }
  int read_end() const noexcept { return fds_.read; }
  int write_end() const noexcept { return fds_.write; }
  /// The pipe is empty again: it goes back to the pool.
  void give_back() noexcept { pool_.give_back(std::exchange(fds_, pipe_pool::pipe_fds{})); }

 private:
  pipe_pool& pool_;
  pipe_pool::pipe_fds fds_;
};

}  // namespace dusty::detail
