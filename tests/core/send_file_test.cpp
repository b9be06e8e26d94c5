// reactor::send_file and reactor::read_at on both backends: bytes arrive intact from any
// offset, the end of the file gives 0, and a send cancelled half-way leaves nothing behind
// for the next one (io_uring's pipes go back to their pool only empty).
#include <dusty/core/reactor.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>

#include <gtest/gtest.h>

#include "support/support.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <string>

using namespace std::chrono_literals;

namespace {

std::string numbered(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 31 + i / 4093) % 26);
  return s;
}

struct file {
  dusty::test::temp_dir dir;
  std::string content;
  int fd = -1;
  explicit file(std::size_t n) : content(numbered(n)) {
    fd = ::open(dir.write("f", content).c_str(), O_RDONLY | O_CLOEXEC);
  }
  ~file() { ::close(fd); }
};

// Reads exactly n bytes from a socket.
std::string receive(int sock, std::size_t n) {
  std::string out;
  std::byte buf[65536];
  while (out.size() < n) {
    auto r = dusty::reactor::recv(sock, std::span(buf, std::min(sizeof buf, n - out.size())), dusty::after(10s));
    if (!r || *r == 0) break;
    out.append(reinterpret_cast<const char*>(buf), *r);
  }
  return out;
}

// Sends [offset, offset + n) of f on sock, in as many calls as it takes.
bool send_all(int sock, const file& f, std::uint64_t offset, std::size_t n) {
  while (n > 0) {
    auto r = dusty::reactor::send_file(sock, f.fd, offset, n, dusty::after(10s));
    if (!r || *r == 0) return false;
    offset += *r;
    n -= *r;
  }
  return true;
}

}  // namespace

TEST(send_file, sends_any_range_of_a_file_intact) {
  file f(3 << 20);
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [&] {
    for (auto [offset, n] : {std::pair<std::size_t, std::size_t>{0, 3 << 20}, {1, 1}, {4095, 70'000}, {(3 << 20) - 10, 10}}) {
      dusty::test::socket_pair sp;
      std::string got;
      auto reader = dusty::spawn([&] { got = receive(sp.fd[0], n); });
      EXPECT_TRUE(send_all(sp.fd[1], f, offset, n));
      reader.join();
      EXPECT_TRUE(got == f.content.substr(offset, n)) << offset << "+" << n;
    }
    dusty::test::socket_pair sp;
    auto end = dusty::reactor::send_file(sp.fd[1], f.fd, f.content.size(), 100);
    ASSERT_TRUE(end);
    EXPECT_EQ(*end, 0u);
  });
}

TEST(send_file, a_cancelled_send_leaves_nothing_for_the_next) {
  file f(8 << 20);
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [&] {
    for (int round = 0; round < 5; ++round) {
      dusty::test::socket_pair stuck;  // nobody reads: the sender blocks with bytes in flight
      auto sender = dusty::spawn([&] { (void)send_all(stuck.fd[1], f, 0, f.content.size()); });
      dusty::sleep_for(20ms);
      sender.cancel();
      try {
        sender.join();
      } catch (const dusty::cancelled_error&) {
      }
      dusty::test::socket_pair sp;
      std::string got;
      auto reader = dusty::spawn([&] { got = receive(sp.fd[0], 100'000); });
      EXPECT_TRUE(send_all(sp.fd[1], f, 5'000'000, 100'000));
      reader.join();
      ASSERT_TRUE(got == f.content.substr(5'000'000, 100'000)) << "round " << round;
    }
  });
}

TEST(send_file, a_deadline_on_a_full_socket_is_timed_out) {
  file f(8 << 20);
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [&] {
    dusty::test::socket_pair stuck;
    std::uint64_t offset = 0;
    for (;;) {
      auto r = dusty::reactor::send_file(stuck.fd[1], f.fd, offset, f.content.size() - offset, dusty::after(100ms));
      if (!r) {
        EXPECT_EQ(r.error(), dusty::errc::timed_out);
        break;
      }
      ASSERT_GT(*r, 0u);
      offset += *r;
      ASSERT_LT(offset, f.content.size()) << "a socket pair does not hold 8 MiB";
    }
  });
}

TEST(read_at, reads_from_an_offset_and_gives_zero_at_the_end) {
  file f(100'000);
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [&] {
    std::byte buf[100];
    auto r = dusty::reactor::read_at(f.fd, buf, 54'321);
    ASSERT_TRUE(r);
    ASSERT_EQ(*r, 100u);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf), 100), f.content.substr(54'321, 100));
    auto end = dusty::reactor::read_at(f.fd, buf, 100'000);
    ASSERT_TRUE(end);
    EXPECT_EQ(*end, 0u);
  });
}
