// Resident memory of idle connections, each with a fiber parked in a receive.
//
// Each measurement runs in a fresh process forked from the benchmark, so memory that an
// earlier benchmark left in the allocator cannot hide or inflate the growth. In it, a
// one-shard runtime runs a listener on 127.0.0.1:0 with an accept fiber. N client
// sockets connect to it from a second helper process, forked before the runtime starts
// (so the client ends count against neither the server's descriptor limit, which cannot
// be raised above 20,000 here without CAP_SYS_RESOURCE, nor its memory). Every accepted
// socket gets a fiber that calls reactor::recv_lazy, the receive that holds no buffer
// while it waits. Once all N fibers are parked the process's resident set is compared
// with the one taken just before the first connect. Then one byte is sent on every
// connection, every fiber must receive exactly that byte and finish, and everything is
// closed: the benchmark fails if any step goes wrong.
//
// Counters (all per connection unless named otherwise):
//   rss_B          growth of VmRSS (user-space memory: stacks, heap, reactor tables)
//   stack_B        resident pages of the parked fibers' stacks, from /proc/self/smaps
//   other_B        rss_B - stack_B: fiber state, spawn closure, reactor bookkeeping
//   stack_pages    average resident pages per parked fiber stack (min/max alongside)
//   pte_B          growth of VmPTE (page tables, kernel memory, not in VmRSS)
//   slab_B         growth of Slab in /proc/meminfo (kernel objects, system-wide: both ends
//                  of each TCP connection, the client's file table, the reactor's kernel
//                  state; other processes add noise)
//   after_B        VmRSS growth still present after every fiber finished and all sockets
//                  closed (stacks kept in the shard's pool, allocator caches)
//   connect_ms     connecting, accepting and parking all N; wake_ms: sending one byte on
//                  each and joining every fiber. The benchmark's time is their sum.
#include "bench_common.hpp"

#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/reactor.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using dusty::backend_kind;
using steady = std::chrono::steady_clock;

// Reads "<key>: <value> kB" from a /proc file; -1 if absent.
long proc_kb(const char* file, const char* key) {
  std::ifstream in(file);
  std::string line;
  const std::size_t key_len = std::strlen(key);
  while (std::getline(in, line))
    if (line.compare(0, key_len, key) == 0 && line.size() > key_len && line[key_len] == ':')
      return std::stol(line.substr(key_len + 1));
  return -1;
}

struct memory_snapshot {
  long rss_kb = proc_kb("/proc/self/status", "VmRSS");
  long pte_kb = proc_kb("/proc/self/status", "VmPTE");
  long slab_kb = proc_kb("/proc/meminfo", "Slab");
};

struct stack_usage {
  std::size_t stacks = 0;  // mappings that hold at least one marker
  long rss_kb = 0;
  long min_kb = 0;
  long max_kb = 0;
};

// Sums the Rss of every mapping in /proc/self/smaps that contains one of `marks`
// (addresses of locals on the parked fibers' stacks). Each stack is one read-write
// mapping, kept apart from its neighbours by their PROT_NONE guard pages.
stack_usage measure_stacks(std::vector<std::uintptr_t> marks) {
  std::sort(marks.begin(), marks.end());
  stack_usage u;
  u.min_kb = -1;
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    unsigned long lo, hi;
    char dash;
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) &&
        line.find('-') != std::string::npos && line.find(':') > line.find(' ')) {
      std::istringstream header(line);
      header >> std::hex >> lo >> dash >> hi;
      auto it = std::lower_bound(marks.begin(), marks.end(), lo);
      inside = it != marks.end() && *it < hi;
      continue;
    }
    if (inside && line.compare(0, 4, "Rss:") == 0) {
      long kb = std::stol(line.substr(4));
      ++u.stacks;
      u.rss_kb += kb;
      u.max_kb = std::max(u.max_kb, kb);
      u.min_kb = u.min_kb < 0 ? kb : std::min(u.min_kb, kb);
      inside = false;
    }
  }
  return u;
}

// The control protocol between the benchmark and its client process, on a socketpair.
// benchmark -> client: hello{port, n}; then 'a' after each batch was accepted, 'w' to send
// one byte on every connection, 'q' to close them all and exit.
// client -> benchmark: a uint32 after each batch (connections made so far), and n after
// the bytes were sent; client_failed followed by an errno if a call failed.
struct hello {
  std::uint16_t port;  // network byte order
  std::uint32_t n;
};
constexpr std::uint32_t client_failed = 0xffffffff;
constexpr std::size_t batch = 256;  // connections per batch, well below the listen backlog

bool read_full(int fd, void* p, std::size_t n) {
  auto* b = static_cast<char*>(p);
  while (n > 0) {
    ssize_t r = ::read(fd, b, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    b += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

bool write_full(int fd, const void* p, std::size_t n) {
  auto* b = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t r = ::write(fd, b, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    b += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// The forked client process: plain blocking sockets, no runtime. Exits when the control
// socket closes.
[[noreturn]] void client_process(int ctl) {
  auto report_failure = [ctl](int err) {
    std::uint32_t msg[2] = {client_failed, static_cast<std::uint32_t>(err)};
    write_full(ctl, msg, sizeof msg);
    ::_exit(1);
  };
  hello h;
  if (!read_full(ctl, &h, sizeof h)) ::_exit(1);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = h.port;
  std::vector<int> fds;
  fds.reserve(h.n);
  while (fds.size() < h.n) {
    for (std::size_t i = 0; i < batch && fds.size() < h.n; ++i) {
      int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (c < 0) report_failure(errno);
      if (::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) report_failure(errno);
      fds.push_back(c);
    }
    auto made = static_cast<std::uint32_t>(fds.size());
    char ack;
    if (!write_full(ctl, &made, sizeof made) || !read_full(ctl, &ack, 1) || ack != 'a') ::_exit(1);
  }
  char cmd;
  if (!read_full(ctl, &cmd, 1) || cmd != 'w') ::_exit(1);
  for (int c : fds)
    if (::send(c, "x", 1, MSG_NOSIGNAL) != 1) report_failure(errno);
  if (!write_full(ctl, &h.n, sizeof h.n)) ::_exit(1);
  if (!read_full(ctl, &cmd, 1) || cmd != 'q') ::_exit(1);
  for (int c : fds) ::close(c);
  ::_exit(0);
}

// The benchmark's end of the control socket, used from a fiber through the reactor.
class client_control {
 public:
  explicit client_control(int fd) : fd_(fd) {}
  void send(const void* p, std::size_t n) {
    auto b = std::span(static_cast<const std::byte*>(p), n);
    while (!b.empty()) {
      auto r = dusty::reactor::send(fd_, b);
      if (!r) throw std::system_error(r.error(), "control send");
      b = b.subspan(*r);
    }
  }
  std::uint32_t receive() {
    std::uint32_t msg[2];
    auto b = std::as_writable_bytes(std::span(msg, 1));
    while (!b.empty()) {
      auto r = dusty::reactor::recv(fd_, b);
      if (!r) throw std::system_error(r.error(), "control recv");
      if (*r == 0) throw std::runtime_error("the client process exited");
      b = b.subspan(*r);
    }
    if (msg[0] == client_failed) {
      std::uint32_t err = 0;
      auto e = std::as_writable_bytes(std::span(&err, 1));
      while (!e.empty()) {
        auto r = dusty::reactor::recv(fd_, e);
        if (!r || *r == 0) break;
        e = e.subspan(*r);
      }
      throw std::runtime_error(std::string("client process: ") + std::strerror(static_cast<int>(err)));
    }
    return msg[0];
  }

 private:
  int fd_;
};

// Forks the client process; kills and reaps it on destruction if it is still around.
class client_process_handle {
 public:
  client_process_handle() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) {
      ::close(sv[0]);
      client_process(sv[1]);
    }
    ::close(sv[1]);
    ctl_ = sv[0];
  }
  ~client_process_handle() {
    ::close(ctl_);  // the client exits on end of file
    int status = 0;
    if (::waitpid(pid_, &status, 0) != pid_) ::kill(pid_, SIGKILL);
  }
  int control_fd() const noexcept { return ctl_; }

 private:
  pid_t pid_ = -1;
  int ctl_ = -1;
};

// What the connection fibers share. Everything per connection is allocated (and
// touched) before the first measurement, so only the runtime's own cost is counted.
struct bench_state {
  explicit bench_state(std::size_t n) : fibers(n), marks(n, 0) {}
  std::vector<dusty::fiber> fibers;
  std::vector<std::uintptr_t> marks;
  std::size_t deep_stack = 0;  // stack bytes a fiber writes before it parks
  bool trim = false;           // give the pages below the current frame back first
  std::size_t stack_size = 0;
  std::size_t accepted = 0;
  std::size_t parked = 0;
  std::size_t received_ok = 0;
  std::size_t failed = 0;
  std::string first_error;

  void fail(std::string what) {
    if (failed++ == 0) first_error = std::move(what);
  }
};

// The memory recv_lazy asks for once data has arrived: one scratch buffer per thread,
// since each fiber looks at its byte before any other fiber runs.
std::array<std::byte, 4096>& scratch() {
  thread_local std::array<std::byte, 4096> buf{};
  return buf;
}

// Stands for the request handling a real connection fiber does between two waits:
// writes `bytes` of its stack, which stay resident after the call returns.
[[gnu::noinline]] void use_stack(std::size_t bytes) {
  auto* p = static_cast<volatile char*>(__builtin_alloca(bytes));
  for (std::size_t i = 0; i < bytes; i += 64) p[i] = 1;
}

// Gives back to the kernel the stack pages below the calling frame (MADV_DONTNEED),
// keeping one page for the frames the coming wait pushes. What a stack trim in core
// could do before a long park; here from outside, so it needs the stack size and
// assumes the caller's frame is within 12 KiB of the stack's top (it is one call deep).
void trim_stack_below(const volatile void* frame, std::size_t stack_size) {
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  std::uintptr_t end = (reinterpret_cast<std::uintptr_t>(frame) & ~(page - 1)) - page;
  std::uintptr_t begin = end - (stack_size - 4 * page);
  ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

void connection(bench_state* st, int fd, std::size_t idx) {
  volatile char marker = 0;  // an address on this fiber's stack, for measure_stacks
  st->marks[idx] = reinterpret_cast<std::uintptr_t>(&marker);
  if (st->deep_stack) use_stack(st->deep_stack);
  if (st->trim) trim_stack_below(&marker, st->stack_size);
  ++st->parked;
  dusty::buffer_source source{[](void*) { return std::span<std::byte>(scratch()); }, nullptr};
  auto r = dusty::reactor::recv_lazy(fd, scratch().size(), source);
  if (!r)
    st->fail("recv_lazy: " + r.error().message());
  else if (*r != 1 || scratch()[0] != std::byte{'x'})
    st->fail("recv_lazy returned " + std::to_string(*r) + " bytes, expected the one byte sent");
  else
    ++st->received_ok;
  dusty::reactor::close(fd);
}

// Yields until pred() holds; throws after `limit` without it.
template <class Pred>
void wait_until(Pred pred, const char* what, std::chrono::seconds limit = std::chrono::seconds(30)) {
  auto until = steady::now() + limit;
  while (!pred()) {
    if (steady::now() > until) throw std::runtime_error(std::string("timed out waiting for ") + what);
    dusty::yield();
  }
}

double kb_per(long kb_delta, std::size_t n) { return static_cast<double>(kb_delta) * 1024.0 / static_cast<double>(n); }

// What one measurement process reports back to the benchmark.
struct idle_result {
  memory_snapshot before, parked, after;
  stack_usage stacks;
  double connect_ms = 0, wake_ms = 0;
  std::size_t ok = 0;
  char error[240] = {};
};

// Runs in a freshly forked, single-threaded process.
idle_result measure(backend_kind backend, std::size_t n, std::size_t deep_stack, bool trim) {
  idle_result res;
  auto set_error = [&res](const std::string& e) { std::snprintf(res.error, sizeof res.error, "%s", e.c_str()); };
  try {
    client_process_handle client;  // forked while this process still has one thread
    dusty::runtime rt(dusty::perf::bench_config(backend, 1));
    rt.run([&] {
      bench_state st(n);
      st.deep_stack = deep_stack;
      st.trim = trim;
      st.stack_size = rt.config().fiber_stack_size;
      scratch().fill(std::byte{0});
      ::fcntl(client.control_fd(), F_SETFL, O_NONBLOCK);
      client_control ctl(client.control_fd());

      int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof addr;
      if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
          ::listen(lfd, 4096) != 0 || ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        throw std::runtime_error(std::string("listener: ") + std::strerror(errno));

      auto acceptor = dusty::spawn([&st, lfd, n] {
        while (st.accepted < n) {
          auto c = dusty::reactor::accept(lfd);
          if (!c) {
            if (c.error() != dusty::errc::closed) st.fail("accept: " + c.error().message());
            return;
          }
          std::size_t idx = st.accepted++;
          st.fibers[idx] = dusty::spawn([p = &st, fd = *c, idx] { connection(p, fd, idx); });
        }
      });
      for (int i = 0; i < 3; ++i) dusty::yield();  // the acceptor is parked in accept

      res.before = memory_snapshot{};
      auto t0 = steady::now();
      hello h{addr.sin_port, static_cast<std::uint32_t>(n)};
      ctl.send(&h, sizeof h);
      for (std::size_t made = 0; made < n;) {
        made = ctl.receive();
        wait_until([&] { return st.parked == made || st.failed; }, "connections to be accepted");
        if (st.failed) throw std::runtime_error(st.first_error);
        ctl.send("a", 1);
      }
      for (int i = 0; i < 3; ++i) dusty::yield();  // every receive has reached the kernel
      res.connect_ms = std::chrono::duration<double, std::milli>(steady::now() - t0).count();
      res.parked = memory_snapshot{};
      res.stacks = measure_stacks(st.marks);

      auto t1 = steady::now();
      ctl.send("w", 1);
      if (ctl.receive() != n) throw std::runtime_error("the client did not send every byte");
      for (auto& f : st.fibers)
        if (f.joinable()) f.join();
      res.wake_ms = std::chrono::duration<double, std::milli>(steady::now() - t1).count();

      ctl.send("q", 1);
      dusty::reactor::close(lfd);  // wakes the acceptor with errc::closed
      acceptor.join();
      res.after = memory_snapshot{};
      res.ok = st.received_ok;
      if (st.failed) set_error(st.first_error);
    });
  } catch (const std::exception& e) {
    set_error(e.what());
  }
  return res;
}

// Forks a process that runs measure() and hands back its result through a pipe.
idle_result measure_in_child(backend_kind backend, std::size_t n, std::size_t deep_stack, bool trim) {
  idle_result res;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    std::snprintf(res.error, sizeof res.error, "pipe: %s", std::strerror(errno));
    return res;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    idle_result r = measure(backend, n, deep_stack, trim);
    write_full(fds[1], &r, sizeof r);
    ::_exit(0);
  }
  ::close(fds[1]);
  if (pid < 0 || !read_full(fds[0], &res, sizeof res))
    std::snprintf(res.error, sizeof res.error, "the measuring process failed");
  ::close(fds[0]);
  if (pid > 0) ::waitpid(pid, nullptr, 0);
  return res;
}

void idle_connections(benchmark::State& state, backend_kind backend) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto deep_stack = static_cast<std::size_t>(state.range(1));
  const bool trim = state.range(2) != 0;
  idle_result r;
  for (auto _ : state) {
    r = measure_in_child(backend, n, deep_stack, trim);
    state.SetIterationTime((r.connect_ms + r.wake_ms) / 1000.0);
  }
  state.SetLabel(std::string(dusty::to_string(backend)));
  if (r.ok != n) {
    state.SkipWithError(("only " + std::to_string(r.ok) + " of " + std::to_string(n) +
                         " connections received their byte; first error: " + r.error)
                            .c_str());
    return;
  }
  const auto& stacks = r.stacks;
  const auto& before = r.before;
  const auto& parked = r.parked;
  const auto& after = r.after;
  state.counters["connections"] = static_cast<double>(n);
  state.counters["rss_B"] = kb_per(parked.rss_kb - before.rss_kb, n);
  state.counters["stack_B"] = kb_per(stacks.rss_kb, n);
  state.counters["other_B"] = kb_per(parked.rss_kb - before.rss_kb - stacks.rss_kb, n);
  state.counters["stacks_seen"] = static_cast<double>(stacks.stacks);
  const double page_kb = static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1024.0;
  state.counters["stack_pages"] = static_cast<double>(stacks.rss_kb) / page_kb / static_cast<double>(stacks.stacks);
  state.counters["stack_pages_min"] = static_cast<double>(stacks.min_kb) / page_kb;
  state.counters["stack_pages_max"] = static_cast<double>(stacks.max_kb) / page_kb;
  state.counters["pte_B"] = kb_per(parked.pte_kb - before.pte_kb, n);
  state.counters["slab_B"] = kb_per(parked.slab_kb - before.slab_kb, n);
  state.counters["after_B"] = kb_per(after.rss_kb - before.rss_kb, n);
  state.counters["connect_ms"] = r.connect_ms;
  state.counters["wake_ms"] = r.wake_ms;
}


// conns: idle connections. deep_stack: stack bytes each fiber writes before parking
// (0: none, as a fresh connection; 32 KiB: as after handling a request that deep).
// trim: 1 to give those pages back (MADV_DONTNEED) before parking.
void idle_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"conns", "deep_stack", "trim"});
  b->Args({10'000, 0, 0})->Args({10'000, 32 * 1024, 0})->Args({10'000, 32 * 1024, 1});
  b->Iterations(1)->Unit(benchmark::kMillisecond)->UseManualTime()->Apply(dusty::perf::spread);
}

BENCHMARK_CAPTURE(idle_connections, io_uring, backend_kind::io_uring)->Apply(idle_args);
BENCHMARK_CAPTURE(idle_connections, epoll, backend_kind::epoll)->Apply(idle_args);

}  // namespace

BENCHMARK_MAIN();
