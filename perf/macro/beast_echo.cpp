// beast-echo: the WebSocket echo server perf/macro/websocket.sh measures dusty against,
// written the way Boost.Beast's own examples write one (websocket_server_async.cpp):
// one io_context per thread, each thread with its own acceptor on the same port
// (SO_REUSEPORT, as dusty's shards have), an asynchronous session per connection that
// reads a message into a flat_buffer and writes it back as it came (text or binary).
// permessage-deflate off (Beast's default), no Nagle, message limit 16 MiB.
//
//   beast-echo PORT [THREADS]          # listens on 127.0.0.1:PORT; "listening" on stdout
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

class session : public std::enable_shared_from_this<session> {
 public:
  explicit session(tcp::socket&& socket) : ws_(std::move(socket)) {}

  void run() {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(16 << 20);
    ws_.async_accept(beast::bind_front_handler(&session::on_accept, shared_from_this()));
  }

 private:
  void on_accept(beast::error_code ec) {
    if (!ec) read();
  }
  void read() { ws_.async_read(buffer_, beast::bind_front_handler(&session::on_read, shared_from_this())); }
  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return;  // closed by the peer, or failed: the session ends
    ws_.text(ws_.got_text());
    ws_.async_write(buffer_.data(), beast::bind_front_handler(&session::on_write, shared_from_this()));
  }
  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return;
    buffer_.consume(buffer_.size());
    read();
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
};

class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(net::io_context& ioc, tcp::endpoint at) : ioc_(ioc), acceptor_(ioc) {
    acceptor_.open(at.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    int one = 1;
    ::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    acceptor_.bind(at);
    acceptor_.listen(4096);
  }
  void accept() {
    acceptor_.async_accept(ioc_, beast::bind_front_handler(&listener::on_accept, shared_from_this()));
  }

 private:
  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (!ec) {
      socket.set_option(tcp::no_delay(true));
      std::make_shared<session>(std::move(socket))->run();
    }
    accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: beast-echo PORT [THREADS]\n");
    return 2;
  }
  auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  int threads = argc > 2 ? std::max(1, std::atoi(argv[2])) : 1;
  tcp::endpoint at(net::ip::make_address("127.0.0.1"), port);
  // One io_context per thread, concurrency hint 1: no locking inside Asio.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  for (int i = 0; i < threads; ++i) {
    contexts.push_back(std::make_unique<net::io_context>(1));
    std::make_shared<listener>(*contexts.back(), at)->accept();
  }
  net::signal_set signals(*contexts[0], SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) {
    for (auto& c : contexts) c->stop();
  });
  std::printf("listening\n");
  std::fflush(stdout);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&, i] { contexts[i]->run(); });
  contexts[0]->run();
  for (auto& t : pool) t.join();
}
