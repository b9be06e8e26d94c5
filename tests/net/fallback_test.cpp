// The epoll fallback where io_uring is forbidden, as Docker's default seccomp profile
// (Docker 25 and later) forbids it: io_uring_setup, io_uring_enter and
// io_uring_register fail with EPERM. The filter is installed in a forked child, since
// a seccomp filter can never be removed from a process.
#include <dusty/core/runtime.hpp>
#include <dusty/net/connection.hpp>
#include <dusty/net/listener.hpp>

#include "net/child_process.hpp"
#include "net/test_util.hpp"

#include <gtest/gtest.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using namespace std::chrono_literals;
using namespace dusty::net::testing;
namespace net = dusty::net;

#if defined(__x86_64__)
constexpr std::uint32_t this_arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr std::uint32_t this_arch = AUDIT_ARCH_AARCH64;
#else
#error "fallback_test: add this architecture's AUDIT_ARCH value"
#endif

// A classic BPF program over seccomp_data: the three io_uring system calls get EPERM,
// everything else is allowed. (libseccomp would generate the same; we write it by hand.)
bool forbid_io_uring() {
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, this_arch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),  // another ABI: not our concern
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 3, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_register, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
  };
  sock_fprog program{static_cast<unsigned short>(std::size(code)), code};
  // Without CAP_SYS_ADMIN a filter needs no_new_privs; it is what Docker sets too.
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// The child's checks; the exit status says which one failed (see the parent).
int child_main() {
  ::unsetenv("DUSTY_BACKEND");
  if (!forbid_io_uring()) return 10;
  io_uring_params params{};
  if (::syscall(__NR_io_uring_setup, 8, &params) != -1 || errno != EPERM) return 11;

  dusty::runtime rt(config());
  if (rt.backend() != dusty::backend_kind::epoll) return 12;
  std::string got;
  rt.run([&] {
    if (dusty::reactor::backend() != dusty::backend_kind::epoll) return;
    auto l = net::listen(net::socket_address::ipv4_loopback());
    if (!l) return;
    auto server = dusty::spawn([&] {
      auto s = l->accept(soon());
      if (!s) return;
      std::byte buf[64];
      auto n = s->read_some(buf, soon());
      if (n) (void)s->write({buf, *n}, soon());
    });
    auto c = net::connect(l->local_address(), soon());
    if (c && c->write(bytes("through epoll"), soon())) {
      std::string back(13, '\0');
      if (c->read(std::as_writable_bytes(std::span(back)), soon())) got = back;
    }
    server.join();
  });
  if (got != "through epoll") return 13;

  try {
    dusty::runtime_config forced = config();
    forced.backend = dusty::backend_kind::io_uring;
    dusty::runtime refused(forced);
    return 14;
  } catch (const dusty::config_error& e) {
    std::string what = e.what();
    std::fprintf(stderr, "forced: %s\n", e.what());
    if (what.find("io_uring") == std::string::npos || what.find("Operation not permitted") == std::string::npos)
      return 15;
  }
  return 0;
}

TEST(fallback, seccomp_blocked_io_uring_falls_back_to_epoll_and_serves) {
  int err[2];
  ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
  std::fflush(nullptr);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(err[1], 2);
    int code = 99;
    try {
      code = child_main();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
    }
    std::_Exit(code);
  }
  ::close(err[1]);
  auto status = wait_exit(pid, 60s);
  std::string log = read_all(err[0], std::chrono::steady_clock::now() + 5s);
  ::close(err[0]);
  if (!status) {
    ::kill(pid, SIGKILL);
    wait_exit(pid, 10s);
    FAIL() << "the child did not finish; its stderr:\n" << log;
  }
  const char* meaning = "";
  switch (*status) {
    case 10: meaning = "installing the seccomp filter failed"; break;
    case 11: meaning = "io_uring_setup was not refused with EPERM under the filter"; break;
    case 12: meaning = "backend automatic did not choose epoll"; break;
    case 13: meaning = "the echo round trip on epoll failed"; break;
    case 14: meaning = "forcing io_uring under the filter did not throw config_error"; break;
    case 15: meaning = "the config_error message does not explain the refusal"; break;
  }
  ASSERT_EQ(*status, 0) << meaning << "; child stderr:\n" << log;
  // Said once, in the log.
  EXPECT_NE(log.find("io_uring is unavailable (Operation not permitted); using epoll"), std::string::npos) << log;
  EXPECT_NE(log.find("forced: io_uring was requested but is unavailable: Operation not permitted"), std::string::npos)
      << log;
}

}  // namespace
