// dusty-echo: a TCP echo server on the dusty runtime, and the runtime's own example and
// benchmark target. Every shard owns a listener on the same port (SO_REUSEPORT) and runs
// one fiber per connection; an idle connection holds no receive buffer.
//
//   dusty-echo --port 7000 --shards 2 --backend epoll
//
// Exit status: 0 after SIGINT/SIGTERM, 2 for a configuration it cannot run (a bad flag,
// zero or too many shards, an unknown backend, a port in use).
#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/log.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/core/sharded.hpp>
#include <dusty/net/buffered_stream.hpp>
#include <dusty/net/error.hpp>
#include <dusty/net/listener.hpp>

#include <server_flags.hpp>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace {

using namespace std::chrono_literals;
namespace net = dusty::net;

constexpr std::string_view app_name = "dusty-echo";

// One line on stderr and exit status 2, for anything the user has to fix.
int bad_config(const std::string& message) { return dusty::apps::config_failure(app_name, message); }

// --address also takes unix:/path (served by shard 0).
dusty::result<net::socket_address> listen_address(const dusty::apps::server_flags& o) {
  if (o.address.starts_with("unix:")) return net::socket_address::parse(o.address);
  return net::socket_address::parse(net::host_port(o.address, o.port));
}

void echo(net::connection& conn) {
  // fill() waits without a buffer, so an idle connection costs its fiber and socket only.
  net::buffered_stream in(conn);
  for (;;) {
    if (!in.fill()) return;  // the peer closed, reset, or the shard is stopping
    if (!conn.write(in.data())) return;
    in.consume(in.data().size());
  }
}

// One per shard: a listener, its accept loop, and the connections it spawned.
class echo_server {
 public:
  // Listens on `address` and starts accepting; returns the bound address.
  dusty::result<net::socket_address> start(const net::socket_address& address) {
    auto l = net::listen(address);
    if (!l) return dusty::fail(l.error());
    listener_ = std::move(*l);
    acceptor_ = dusty::spawn([this] { accept_loop(); });
    return listener_.local_address();
  }

  // Called by sharded<>::stop(): stop accepting. Connections are cancelled by the
  // runtime when main returns.
  void stop() {
    listener_.close();  // wakes the accept loop with errc::closed
    if (acceptor_.joinable()) acceptor_.join();
  }

 private:
  void accept_loop() {
    for (;;) {
      auto c = listener_.accept();
      if (!c) {
        if (c.error() == dusty::errc::closed) return;
        dusty::log::warn("accept on ", listener_.local_address().to_string(), ": ", c.error());
        // Out of descriptors: give connections a moment to finish before trying again.
        if (c.error() == std::errc::too_many_files_open || c.error() == std::errc::too_many_files_open_in_system)
          dusty::sleep_for(10ms);
        continue;
      }
      (void)c->set_nodelay(true);  // fails harmlessly on Unix sockets
      dusty::spawn([conn = std::move(*c)]() mutable {
        try {
          echo(conn);
        } catch (const dusty::cancelled_error&) {
        }
      }).detach();
    }
  }

  net::listener listener_;
  dusty::fiber acceptor_;
};

// The main fiber, on shard 0. Returns the exit status.
int serve(const net::socket_address& address, dusty::backend_kind backend) {
  dusty::sharded<echo_server> servers;
  servers.start();
  auto first = servers.invoke_on(0, [address](echo_server& s) { return s.start(address); });
  if (!first) return bad_config(net::error(first.error(), "listen on " + address.to_string()).what());
  // Port 0: the other shards join the port the kernel gave shard 0. A Unix socket path
  // admits one listener only.
  net::socket_address bound = *first;
  unsigned listeners = address.is_unix() ? 1 : dusty::shard_count();
  for (unsigned i = 1; i < listeners; ++i) {
    auto r = servers.invoke_on(i, [bound](echo_server& s) { return s.start(bound); });
    if (!r) return bad_config(net::error(r.error(), "listen on " + bound.to_string()).what());
  }
  std::printf("dusty-echo listening on %s (%u shards, %s)\n", bound.to_string().c_str(), dusty::shard_count(),
              std::string(dusty::to_string(backend)).c_str());
  std::fflush(stdout);
  dusty::wait_for_stop();
  servers.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  dusty::apps::server_flags o{.port = 7000};
  if (auto error = dusty::apps::parse_server_flags(argc, argv, app_name, o)) return bad_config(*error);
  auto address = listen_address(o);
  if (!address) return bad_config(net::error(address.error(), "--address '" + o.address + "'").what());
  try {
    dusty::runtime rt(o.runtime());
    dusty::backend_kind backend = rt.backend();
    return rt.run([&] { return serve(*address, backend); });
  } catch (const dusty::config_error& e) {
    return bad_config(e.what());
  } catch (const dusty::cancelled_error&) {
    return 0;  // a stop signal arrived before the listeners were up
  }
}
