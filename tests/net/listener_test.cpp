#include <dusty/net/listener.hpp>

#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/core/sharded.hpp>
#include <dusty/net/error.hpp>

#include "net/test_util.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace dusty::net::testing;
namespace net = dusty::net;
using dusty::errc;
using clock_type = std::chrono::steady_clock;

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

TEST(listener, port_zero_reports_the_real_port) {
  dusty::runtime rt(config());
  rt.run([] {
    auto l = net::listen(*net::socket_address::parse("127.0.0.1:0"));
    ASSERT_TRUE(l) << l.error().message();
    EXPECT_TRUE(l->is_open());
    EXPECT_NE(l->local_address().port(), 0);
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    ASSERT_EQ(::getsockname(l->fd(), reinterpret_cast<sockaddr*>(&ss), &len), 0);
    EXPECT_EQ(net::socket_address(reinterpret_cast<sockaddr*>(&ss), len), l->local_address());
    auto [client, server] = connected_pair(*l);
    EXPECT_EQ(*server.local_address(), l->local_address());
  });
}

TEST(listener, port_in_use_gives_eaddrinuse) {
  dusty::runtime rt(config());
  rt.run([] {
    auto first = net::listen(net::socket_address::ipv4_loopback(), {.reuse_port = false});
    ASSERT_TRUE(first);
    auto at = first->local_address();
    auto second = net::listen(at);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), std::errc::address_in_use);
    EXPECT_EQ(std::string(net::error(second.error(), "listen on " + at.to_string()).what()),
              "listen on " + at.to_string() + ": Address already in use");
  });
}

TEST(listener, reuse_port_lets_listeners_share_a_port) {
  dusty::runtime rt(config());
  rt.run([] {
    auto a = net::listen(net::socket_address::ipv4_loopback());
    ASSERT_TRUE(a);
    auto b = net::listen(a->local_address());
    ASSERT_TRUE(b) << b.error().message();
    EXPECT_EQ(a->local_address(), b->local_address());
  });
}

TEST(listener, accept_deadline_times_out) {
  dusty::runtime rt(config());
  rt.run([] {
    auto l = net::listen(net::socket_address::ipv4_loopback());
    ASSERT_TRUE(l);
    auto start = clock_type::now();
    auto c = l->accept(dusty::after(30ms));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error(), errc::timed_out);
    EXPECT_GE(clock_type::now() - start, 30ms);
    // Still listening afterwards.
    auto [client, server] = connected_pair(*l);
    EXPECT_TRUE(server.is_open());
  });
}

TEST(listener, cancelling_a_fiber_blocked_in_accept) {
  dusty::runtime rt(config());
  rt.run([] {
    auto l = net::listen(net::socket_address::ipv4_loopback());
    ASSERT_TRUE(l);
    auto f = dusty::spawn([&] {
      (void)l->accept();
      ADD_FAILURE() << "accept returned in a cancelled fiber";
    });
    dusty::yield();
    EXPECT_FALSE(f.done());
    f.cancel();
    EXPECT_THROW(f.join(), dusty::cancelled_error);
    // The listener still works for the next fiber.
    auto [client, server] = connected_pair(*l);
    EXPECT_TRUE(server.is_open());
  });
}

TEST(listener, close_wakes_fibers_blocked_in_accept_with_closed) {
  dusty::runtime rt(config());
  rt.run([] {
    auto l = net::listen(net::socket_address::ipv4_loopback());
    ASSERT_TRUE(l);
    auto to = l->local_address();
    std::vector<std::error_code> seen;
    std::vector<dusty::fiber> waiters;
    for (int i = 0; i < 3; ++i)
      waiters.push_back(dusty::spawn([&] {
        auto c = l->accept(soon());
        seen.push_back(c ? std::error_code() : c.error());
      }));
    dusty::yield();
    l->close();
    l->close();  // idempotent
    for (auto& f : waiters) f.join();
    ASSERT_EQ(seen.size(), 3u);
    for (auto& e : seen) EXPECT_EQ(e, errc::closed) << e.message();
    EXPECT_EQ(l->accept(soon()).error(), errc::closed);
    EXPECT_EQ(net::connect(to, soon()).error(), std::errc::connection_refused);
  });
}

TEST(listener, dual_stack_listener_accepts_ipv4_unless_v6_only) {
  if (!have_ipv6_loopback()) GTEST_SKIP() << "this kernel has no IPv6 loopback (binding [::1] failed)";
  dusty::runtime rt(config());
  rt.run([] {
    auto dual = net::listen(net::socket_address::ipv6_any());
    ASSERT_TRUE(dual) << dual.error().message();
    auto v4 = net::socket_address::ipv4_loopback(dual->local_address().port());
    auto c = net::connect(v4, soon());
    ASSERT_TRUE(c) << c.error().message();
    auto s = dual->accept(soon());
    ASSERT_TRUE(s);
    EXPECT_EQ(s->remote_address()->to_string().rfind("[::ffff:127.0.0.1]:", 0), 0u);

    auto only = net::listen(net::socket_address::ipv6_any(), {.v6_only = true});
    ASSERT_TRUE(only);
    auto refused = net::connect(net::socket_address::ipv4_loopback(only->local_address().port()), soon());
    EXPECT_EQ(refused.error(), std::errc::connection_refused);
  });
}

TEST(listener, unix_socket_file_is_removed_on_close) {
  temp_dir dir;
  std::string path = dir.path("a.sock");
  dusty::runtime rt(config());
  rt.run([&] {
    auto l = net::listen(*net::socket_address::unix_socket(path));
    ASSERT_TRUE(l) << l.error().message();
    EXPECT_EQ(l->local_address().to_string(), "unix:" + path);
    EXPECT_TRUE(exists(path));
    net::listener moved = std::move(*l);  // the file goes with the listener
    l->close();
    EXPECT_TRUE(exists(path));
    moved.close();
    EXPECT_FALSE(exists(path));
  });
}

TEST(listener, stale_unix_socket_file_is_replaced) {
  temp_dir dir;
  std::string path = dir.path("stale.sock");
  auto address = *net::socket_address::unix_socket(path);
  // What a crashed server leaves: a bound socket file with nobody listening.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_EQ(::bind(fd, address.data(), address.size()), 0);
  ::close(fd);
  ASSERT_TRUE(exists(path));
  dusty::runtime rt(config());
  rt.run([&] {
    auto l = net::listen(address);
    ASSERT_TRUE(l) << l.error().message();
    auto [client, server] = connected_pair(*l);
    EXPECT_TRUE(server.is_open());
  });
}

TEST(listener, live_unix_socket_and_other_files_are_left_alone) {
  temp_dir dir;
  dusty::runtime rt(config());
  rt.run([&] {
    auto live = *net::socket_address::unix_socket(dir.path("live.sock"));
    auto first = net::listen(live);
    ASSERT_TRUE(first);
    auto second = net::listen(live);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), std::errc::address_in_use);
    auto [client, server] = connected_pair(*first);  // the first one still owns it
    EXPECT_TRUE(server.is_open());

    std::string file = dir.path("data.txt");
    int fd = ::open(file.c_str(), O_CREAT | O_WRONLY, 0600);
    ASSERT_GE(fd, 0);
    ::close(fd);
    auto on_file = net::listen(*net::socket_address::unix_socket(file));
    ASSERT_FALSE(on_file);
    EXPECT_EQ(on_file.error(), std::errc::address_in_use);
    EXPECT_TRUE(exists(file));
  });
}

TEST(listener, replaced_unix_socket_file_is_not_removed) {
  temp_dir dir;
  std::string path = dir.path("r.sock");
  dusty::runtime rt(config());
  rt.run([&] {
    auto address = *net::socket_address::unix_socket(path);
    auto l = net::listen(address);
    ASSERT_TRUE(l);
    // Someone else took over the path; closing must not delete their socket.
    ASSERT_EQ(::unlink(path.c_str()), 0);
    auto other = net::listen(address);
    ASSERT_TRUE(other);
    l->close();
    EXPECT_TRUE(exists(path));
  });
}

// One per shard: a listener answering each connection with its shard's id.
class id_server {
 public:
  dusty::result<net::socket_address> start(const net::socket_address& at) {
    auto l = net::listen(at);
    if (!l) return dusty::fail(l.error());
    listener_ = std::move(*l);
    loop_ = dusty::spawn([this] {
      for (;;) {
        auto c = listener_.accept();
        if (!c) return;  // closed by stop()
        char id = static_cast<char>('0' + dusty::this_shard_id());
        (void)c->write(bytes(std::string_view(&id, 1)), soon());
      }
    });
    return listener_.local_address();
  }
  void stop() {
    listener_.close();
    if (loop_.joinable()) loop_.join();
  }

 private:
  net::listener listener_;
  dusty::fiber loop_;
};

TEST(listener, two_shards_share_a_port_and_both_serve) {
  if (usable_cpus() < 2) GTEST_SKIP() << "needs 2 CPUs for 2 shards; this process may use " << usable_cpus();
  dusty::runtime rt(config(2));
  rt.run([] {
    dusty::sharded<id_server> servers;
    servers.start();
    auto at = servers.invoke_on(0, [](id_server& s) { return s.start(net::socket_address::ipv4_loopback()); });
    ASSERT_TRUE(at) << at.error().message();
    auto second = servers.invoke_on(1, [a = *at](id_server& s) { return s.start(a); });
    ASSERT_TRUE(second) << second.error().message();
    EXPECT_EQ(*second, *at);
    // The kernel spreads connections by a hash of the 4-tuple: each new client port is a
    // fresh draw, so both shards answer within a few tries.
    std::set<std::string> answered;
    for (int i = 0; i < 200 && answered.size() < 2; ++i) {
      auto c = net::connect(*at, soon());
      ASSERT_TRUE(c) << c.error().message();
      answered.insert(read_string(*c, 1));
    }
    EXPECT_EQ(answered, (std::set<std::string>{"0", "1"}));
    servers.stop();
  });
}

}  // namespace
