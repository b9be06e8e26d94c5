// The epoll reactor: used where io_uring cannot be set up (kernels before 5.19 lack what
// we use, io_uring_disabled=2, Docker >= 25's default seccomp profile). Each operation
// first tries the non-blocking system call and parks only on EAGAIN; descriptors are
// registered once, edge-triggered, for both directions.
#include <dusty/core/detail/backend.hpp>
#include <dusty/core/detail/io_waiter.hpp>
#include <dusty/core/detail/scheduler.hpp>

#include <dusty/core/error.hpp>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <utility>
#include <vector>

namespace dusty::detail {
namespace {

class epoll_backend final : public backend {
 public:
  epoll_backend(scheduler& s, timer_heap& t) : sched_(s), timers_(t) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
      ::close(epfd_);
      throw std::system_error(errno, std::generic_category(), "eventfd");
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  }

  ~epoll_backend() override {
    ::close(wake_fd_);
    ::close(epfd_);
  }

  backend_kind kind() const noexcept override { return backend_kind::epoll; }

  void poll(clock::duration timeout) override {
    epoll_event events[256];
    timespec ts{};
    timespec* tsp = nullptr;
    if (timeout >= clock::duration::zero()) {
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
      ts.tv_sec = ns / 1'000'000'000;
      ts.tv_nsec = ns % 1'000'000'000;
      tsp = &ts;
    }
    int n = ::epoll_pwait2(epfd_, events, 256, tsp, nullptr);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        std::uint64_t v;
        while (::read(wake_fd_, &v, sizeof v) > 0) {
        }
        continue;
      }
      if (static_cast<std::size_t>(fd) >= fds_.size() || !fds_[fd]) continue;
      auto& st = *fds_[fd];
      std::uint32_t e = events[i].events;
      if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) st.writers.wake_all();
      if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        st.readers.wake_all();
        // Last: the handler may close the descriptor, which resets `st`.
        if (input_watch* w = std::exchange(st.watch, nullptr)) {
          if (w->timer.armed()) timers_.remove(&w->timer);
          w->fire(input_watch::event::input);
        }
      }
    }
  }

  void wake(backend*) noexcept override {
    std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
  }

  result<int> accept(int fd, sockaddr* addr, socklen_t* len, deadline d) override {
    return retry(fd, false, d, [&]() -> int { return ::accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC); });
  }

  result<void> connect(int fd, const sockaddr* addr, socklen_t len, deadline d) override {
    if (::connect(fd, addr, len) == 0) return {};
    if (errno != EINPROGRESS && errno != EINTR) return fail(std::error_code(errno, std::generic_category()));
    if (auto r = wait(fd, true, d); !r) return fail(r.error());
    int err = 0;
    socklen_t n = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &n);
    if (err) return fail(std::error_code(err, std::generic_category()));
    return {};
  }

  result<std::size_t> recv(int fd, std::span<std::byte> buf, deadline d) override {
    return sized(retry(fd, false, d, [&] { return ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT); }));
  }

  result<std::size_t> recv_lazy(int fd, std::size_t max, buffer_source source, deadline d) override {
    // Wait for readiness before taking a buffer, so an idle connection holds none. A one-
    // byte MSG_PEEK tells data from EOF from nothing-yet without consuming anything.
    bool signalled = false;
    for (;;) {
      if (!signalled) {
        std::byte probe;
        ssize_t r = ::recv(fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
        if (r == 0) return std::size_t{0};
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno != EAGAIN) return fail(std::error_code(errno, std::generic_category()));
        if (r < 0) {
          if (auto w = wait(fd, false, d); !w) return fail(w.error());
          signalled = true;
          continue;
        }
      }
      auto dst = source();
      ssize_t r = ::recv(fd, dst.data(), std::min(max, dst.size()), MSG_DONTWAIT);
      if (r >= 0) return static_cast<std::size_t>(r);
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return fail(std::error_code(errno, std::generic_category()));
      return recv(fd, dst.first(std::min(max, dst.size())), d);  // spurious wakeup: keep the buffer
    }
  }

  result<std::size_t> send(int fd, std::span<const std::byte> buf, deadline d) override {
    return sized(retry(fd, true, d,
                       [&] { return ::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL | MSG_DONTWAIT); }));
  }

  result<std::size_t> sendv(int fd, std::span<const iovec> bufs, deadline d) override {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(bufs.data());
    msg.msg_iovlen = bufs.size();
    return sized(retry(fd, true, d, [&] { return ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT); }));
  }

  result<std::size_t> read(int fd, std::span<std::byte> buf, deadline d) override {
    return sized(retry(fd, false, d, [&] { return ::read(fd, buf.data(), buf.size()); }));
  }

  result<std::size_t> write(int fd, std::span<const std::byte> buf, deadline d) override {
    return sized(retry(fd, true, d, [&] { return ::write(fd, buf.data(), buf.size()); }));
  }

  result<std::size_t> read_at(int fd, std::span<std::byte> buf, std::uint64_t offset, deadline) override {
    for (;;) {
      ssize_t r = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset));
      if (r >= 0) return static_cast<std::size_t>(r);
      if (errno != EINTR) return fail(std::error_code(errno, std::generic_category()));
    }
  }

  result<std::size_t> send_file(int sock_fd, int file_fd, std::uint64_t offset, std::size_t count,
                                deadline d) override {
    off_t at = static_cast<off_t>(offset);
    return sized(retry(sock_fd, true, d, [&] { return ::sendfile(sock_fd, file_fd, &at, count); }));
  }

  void watch_input(input_watch& w, deadline d) override {
    auto& st = state(w.fd);
    // Edge-triggered: input that came before now raised no new edge. EPOLL_CTL_MOD (like
    // ADD) checks the descriptor's readiness again and reports what is already there.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.fd = w.fd;
    if (::epoll_ctl(epfd_, st.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, w.fd, &ev) != 0)
      throw std::system_error(errno, std::generic_category(), "epoll_ctl for an input watch");
    st.registered = true;
    st.watch = &w;
    w.backend = this;
    if (d != no_deadline) {
      w.timer.when = d;
      w.timer.data = &w;
      w.timer.fire = [](timer_entry* e) {
        auto* watch = static_cast<input_watch*>(e->data);
        static_cast<epoll_backend*>(watch->backend)->state(watch->fd).watch = nullptr;
        watch->fire(input_watch::event::timed_out);
      };
      timers_.add(&w.timer);
    }
  }

  void forget(int fd) noexcept override {
    if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size() || !fds_[fd]) return;
    auto& st = *fds_[fd];
    st.watch = nullptr;  // closing under an armed watch breaks its contract; never fire it
    st.readers.close_all();
    st.writers.close_all();
    if (st.registered) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    st.registered = false;
  }

 private:
  struct fd_state {
    io_waiter_list readers;
    io_waiter_list writers;
    input_watch* watch = nullptr;  // armed on this descriptor
    bool registered = false;
  };

  // Heap-allocated so the intrusive waiter lists never move when the table grows.
  fd_state& state(int fd) {
    if (static_cast<std::size_t>(fd) >= fds_.size()) fds_.resize(static_cast<std::size_t>(fd) * 2 + 64);
    auto& st = fds_[fd];
    if (!st) st = std::make_unique<fd_state>();
    return *st;
  }

  result<void> wait(int fd, bool for_write, deadline d) {
    auto& st = state(fd);
    if (!st.registered) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      ev.data.fd = fd;
      if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0 && errno != EEXIST)
        return fail(std::error_code(errno, std::generic_category()));
      st.registered = true;
    }
    return (for_write ? st.writers : st.readers).wait(sched_, timers_, d);
  }

  template <class Call>
  auto retry(int fd, bool for_write, deadline d, Call call) -> result<decltype(call())> {
    for (;;) {
      auto r = call();
      if (r >= 0) return r;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return fail(std::error_code(errno, std::generic_category()));
      if (auto w = wait(fd, for_write, d); !w) return fail(w.error());
    }
  }

  template <class T>
  static result<std::size_t> sized(result<T> r) {
    if (!r) return fail(r.error());
    return static_cast<std::size_t>(*r);
  }

  scheduler& sched_;
  timer_heap& timers_;
  int epfd_ = -1;
  int wake_fd_ = -1;
  std::vector<std::unique_ptr<fd_state>> fds_;
};

}  // namespace

std::unique_ptr<backend> make_epoll_backend(scheduler& s, timer_heap& t) {
  return std::make_unique<epoll_backend>(s, t);
}

}  // namespace dusty::detail
