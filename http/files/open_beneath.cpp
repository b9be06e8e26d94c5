#include <dusty/http/files/open_beneath.hpp>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <system_error>

namespace dusty::http::files {
namespace {

constexpr int open_flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;

// 1: openat2 works, 0: ENOSYS seen, -1: not asked yet.
std::atomic<int> openat2_state{-1};

std::error_code last_error() { return {errno, std::generic_category()}; }

int call_openat2(int dir, const char* path, bool follow_symlinks) {
  open_how how{};
  how.flags = open_flags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (follow_symlinks ? 0 : RESOLVE_NO_SYMLINKS);
  for (;;) {
    long fd = ::syscall(SYS_openat2, dir, path, &how, sizeof how);
    // EAGAIN: a rename raced the lookup (RESOLVE_* asks the kernel to retry in user space).
    if (fd >= 0 || (errno != EINTR && errno != EAGAIN)) return static_cast<int>(fd);
  }
}

// One component at a time, never following a symlink: O_NOFOLLOW makes a symlink as the
// last component fail with ELOOP; for the directories on the way, O_DIRECTORY with
// O_NOFOLLOW fails on a symlink too (ELOOP or ENOTDIR).
int walk_nofollow(int dir, const std::string& relative) {
  if (relative.empty()) return ::openat(dir, ".", open_flags | O_DIRECTORY);
  file_descriptor current;
  int at = dir;
  std::size_t begin = 0;
  for (;;) {
    auto slash = relative.find('/', begin);
    bool last = slash == std::string::npos;
    std::string part = relative.substr(begin, last ? std::string::npos : slash - begin);
    int fd = ::openat(at, part.c_str(), open_flags | O_NOFOLLOW | (last ? 0 : O_DIRECTORY));
    if (fd < 0) return -1;
    if (last) return fd;
    current.reset(fd);
    at = current.get();
    begin = slash + 1;
  }
}

}  // namespace

bool have_openat2() noexcept {
  int state = openat2_state.load(std::memory_order_relaxed);
  if (state < 0) {
    // Probe with the current directory: any answer but ENOSYS means the call exists.
    int fd = call_openat2(AT_FDCWD, ".", true);
    state = fd >= 0 || errno != ENOSYS ? 1 : 0;
    if (fd >= 0) ::close(fd);
    openat2_state.store(state, std::memory_order_relaxed);
  }
  return state == 1;
}

result<opened> open_beneath(int dir, const std::string& relative, bool follow_symlinks) {
  int fd = have_openat2() ? call_openat2(dir, relative.empty() ? "." : relative.c_str(), follow_symlinks)
                          : walk_nofollow(dir, relative);
  if (fd < 0) return fail(last_error());
  opened out;
  out.fd.reset(fd);
  if (::fstat(fd, &out.info) != 0) return fail(last_error());
  // A regular file is read by splice and io_uring, which would give EAGAIN instead of
  // waiting for the disk if the descriptor stayed non-blocking.
  if (S_ISREG(out.info.st_mode) && ::fcntl(fd, F_SETFL, O_RDONLY) != 0) return fail(last_error());
  return out;
}

}  // namespace dusty::http::files
