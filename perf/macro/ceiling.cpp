// dusty-ceiling: the fastest HTTP/1.1 keep-alive "server" this kernel allows, as the
// physical limit the macro suite measures dusty against (perf/macro/run.sh).
//
// One thread, one io_uring (SINGLE_ISSUER + DEFER_TASKRUN when the kernel has them),
// a multishot accept, and per connection: recv into a fixed buffer, count every
// "\r\n\r\n" (across recv boundaries too), send that many copies of dusty-hello's
// /plaintext answer in one send, recv again. Nothing is parsed: method, path, headers
// and bodies are ignored, so it only makes sense for bodiless GETs, and it never closes
// a connection itself. What it costs is the floor any HTTP/1.1 server on this kernel
// pays: the system calls (batched by io_uring), the TCP stack and the copies.
//
// The answer is byte for byte what dusty-hello sends for GET /plaintext (130 bytes,
// Date rewritten once a second). A send in flight may read a Date being rewritten; the
// length never changes, so a torn date is the worst that can happen.
//
//   dusty-ceiling [--address 127.0.0.1] [--port 0]
//   prints "dusty-ceiling serving http://127.0.0.1:PORT/" once listening.
#include <liburing.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view answer_head = "HTTP/1.1 200 OK\r\nServer: dusty\r\nDate: ";
constexpr std::string_view answer_tail =
    "\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
constexpr std::size_t date_size = 29;  // "Sun, 22 Nov 2026 07:57:05 GMT"
constexpr std::size_t answer_size = answer_head.size() + date_size + answer_tail.size();
constexpr std::size_t copies = 64;  // answers per send; a deeper pipeline takes several sends
constexpr std::size_t recv_size = 16384;

// `copies` answers back to back; a send of n answers starts at the front.
char answers[answer_size * copies];
std::time_t answers_time = 0;

void refresh_date(std::time_t now) {
  if (now == answers_time) return;
  answers_time = now;
  std::tm tm{};
  gmtime_r(&now, &tm);
  char date[date_size + 1];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  for (std::size_t i = 0; i < copies; ++i) {
    char* p = answers + i * answer_size;
    std::memcpy(p, answer_head.data(), answer_head.size());
    std::memcpy(p + answer_head.size(), date, date_size);
    std::memcpy(p + answer_head.size() + date_size, answer_tail.data(), answer_tail.size());
  }
}

struct connection {
  int fd;
  int matched = 0;            // how much of "\r\n\r\n" the bytes so far end with
  std::size_t unsent = 0;     // bytes of answers still to send
  std::size_t sent = 0;       // bytes of answers sent in this batch (for the offset)
  char buf[recv_size];
};

enum op : std::uintptr_t { op_accept = 0, op_recv = 1, op_send = 2 };

io_uring ring;

io_uring_sqe* sqe() {
  io_uring_sqe* s = io_uring_get_sqe(&ring);
  while (!s) {
    io_uring_submit(&ring);
    s = io_uring_get_sqe(&ring);
  }
  return s;
}

void tag(io_uring_sqe* s, connection* c, op o) {
  io_uring_sqe_set_data64(s, reinterpret_cast<std::uintptr_t>(c) | o);
}

void post_recv(connection* c) {
  io_uring_sqe* s = sqe();
  io_uring_prep_recv(s, c->fd, c->buf, recv_size, 0);
  tag(s, c, op_recv);
}

void post_send(connection* c) {
  // Every answer is the same, so the next bytes to send start at (sent % answer_size).
  std::size_t offset = c->sent % answer_size;
  std::size_t n = c->unsent < sizeof answers - offset ? c->unsent : sizeof answers - answer_size;
  io_uring_sqe* s = sqe();
  io_uring_prep_send(s, c->fd, answers + offset, n, MSG_NOSIGNAL);
  tag(s, c, op_send);
}

void post_accept(int listener) {
  io_uring_sqe* s = sqe();
  io_uring_prep_multishot_accept(s, listener, nullptr, nullptr, 0);
  io_uring_sqe_set_data64(s, op_accept);
}

// Counts the ends of request heads in data, carrying a partial "\r\n\r\n" over.
std::size_t count_heads(connection* c, const char* data, std::size_t n) {
  static constexpr char end[] = "\r\n\r\n";
  std::size_t heads = 0;
  int m = c->matched;
  for (std::size_t i = 0; i < n; ++i) {
    char ch = data[i];
    if (ch == end[m]) {
      if (++m == 4) {
        ++heads;
        m = 0;
      }
    } else {
      m = ch == '\r' ? 1 : 0;
    }
  }
  c->matched = m;
  return heads;
}

void close_connection(connection* c) {
  ::close(c->fd);
  delete c;
}

int listen_on(const char* address, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, address, &a.sin_addr) != 1) {
    std::fprintf(stderr, "dusty-ceiling: bad address %s\n", address);
    std::exit(2);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4096) != 0) {
    std::fprintf(stderr, "dusty-ceiling: cannot listen on %s:%d: %s\n", address, port, std::strerror(errno));
    std::exit(2);
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  const char* address = "127.0.0.1";
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--address" && i + 1 < argc) {
      address = argv[++i];
    } else if (arg == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: dusty-ceiling [--address 127.0.0.1] [--port 0]\n");
      return 2;
    }
  }

  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  params.cq_entries = 16384;
  params.flags |= IORING_SETUP_CQSIZE;
  int rc = io_uring_queue_init_params(4096, &ring, &params);
  if (rc == -EINVAL) {  // an older kernel: no DEFER_TASKRUN
    params = {};
    params.cq_entries = 16384;
    params.flags = IORING_SETUP_CQSIZE;
    rc = io_uring_queue_init_params(4096, &ring, &params);
  }
  if (rc < 0) {
    std::fprintf(stderr, "dusty-ceiling: io_uring_queue_init: %s\n", std::strerror(-rc));
    return 2;
  }

  int listener = listen_on(address, port);
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&bound), &len);
  refresh_date(std::time(nullptr));
  post_accept(listener);
  std::printf("dusty-ceiling serving http://%s:%d/\n", address, ntohs(bound.sin_port));
  std::fflush(stdout);

  for (;;) {
    rc = io_uring_submit_and_wait(&ring, 1);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      std::fprintf(stderr, "dusty-ceiling: io_uring_submit_and_wait: %s\n", std::strerror(-rc));
      return 1;
    }
    refresh_date(std::time(nullptr));
    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      std::uintptr_t data = io_uring_cqe_get_data64(cqe);
      auto* c = reinterpret_cast<connection*>(data & ~std::uintptr_t{3});
      int res = cqe->res;
      switch (static_cast<op>(data & 3)) {
        case op_accept:
          if (res >= 0) {
            int one = 1;
            ::setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            post_recv(new connection{.fd = res});
          }
          if (!(cqe->flags & IORING_CQE_F_MORE)) post_accept(listener);
          break;
        case op_recv:
          if (res <= 0) {
            close_connection(c);
          } else if (std::size_t n = count_heads(c, c->buf, static_cast<std::size_t>(res))) {
            c->unsent = n * answer_size;
            c->sent = 0;
            post_send(c);
          } else {
            post_recv(c);
          }
          break;
        case op_send:
          if (res < 0) {
            close_connection(c);
            break;
          }
          c->unsent -= static_cast<std::size_t>(res);
          c->sent += static_cast<std::size_t>(res);
          if (c->unsent > 0) {
            post_send(c);
          } else {
            post_recv(c);
          }
          break;
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
}
