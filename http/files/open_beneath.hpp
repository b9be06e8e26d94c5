#pragma once
// open_beneath: opens a path relative to a directory so that the kernel guarantees the
// result lies inside it, whatever the path's symlinks or a concurrent rename do.
//
// Linux 5.6+ has openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): resolution may never
// leave the directory (a ".." above it or a symlink out of it fails with EXDEV), and
// /proc-style magic links are refused. With symlinks refused, RESOLVE_NO_SYMLINKS is
// added. Where openat2 is missing (ENOSYS: older kernels, some seccomp profiles), the
// fallback walks the path one component at a time with openat(O_NOFOLLOW), so no
// symlink is followed at all (symlinks are then refused even inside the root), and
// ".." never appears (safe_path refused it before).
//
// Never blocks on the file's content: files are opened O_NONBLOCK (a FIFO or device in
// the tree then cannot stall the shard), which is cleared again for a regular file.
#include <dusty/core/file_descriptor.hpp>
#include <dusty/core/result.hpp>

#include <sys/stat.h>

#include <string>

namespace dusty::http::files {

struct opened {
  file_descriptor fd;
  struct stat info {};
};

/// Opens `relative` ("" for `dir` itself) read-only beneath the directory `dir` and
/// stats it. Errors: the errno (ENOENT, ENOTDIR, EACCES, ELOOP for a refused symlink,
/// EXDEV for an escape, ...).
result<opened> open_beneath(int dir, const std::string& relative, bool follow_symlinks);

/// Whether this kernel has openat2 (asked once per process).
bool have_openat2() noexcept;

}  // namespace dusty::http::files
