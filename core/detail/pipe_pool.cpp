#include <dusty/core/detail/pipe_pool.hpp>

#include <fcntl.h>
#include <unistd.h>

namespace dusty::detail {

namespace {
// A 1 MiB pipe moves a large file in a quarter of the rounds a 256 KiB one needs. The
// pages it holds are the page cache's own (spliced, not copied); 1 MiB is also the
// default /proc/sys/fs/pipe-max-size, so unprivileged processes get it too.
constexpr int wanted_capacity = 1 << 20;
}  // namespace

pipe_pool::~pipe_pool() {
  for (auto p : free_) close(p);
}

pipe_pool::pipe_fds pipe_pool::take() {
  if (!free_.empty()) {
    auto p = free_.back();
    free_.pop_back();
    return p;
  }
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return {};
  // Where the system refuses (a lowered pipe-max-size) the pipe keeps its default size; a
  // splice into it then simply moves less per round.
  int got = ::fcntl(fds[1], F_SETPIPE_SZ, wanted_capacity);
  if (got > 0 && static_cast<std::size_t>(got) > capacity_) capacity_ = static_cast<std::size_t>(got);
  return {fds[0], fds[1]};
}

void pipe_pool::give_back(pipe_fds p) noexcept {
  if (p.read < 0) return;
  if (free_.size() >= max_kept) {
    close(p);
    return;
  }
  free_.push_back(p);
}

void pipe_pool::close(pipe_fds p) noexcept {
  if (p.read >= 0) ::close(p.read);
  if (p.write >= 0) ::close(p.write);
}

}  // namespace dusty::detail
