#pragma once
// Helpers for the client tests (tests/http/client_*_test.cpp): a runtime to run a test
// body in, and a scripted HTTP server on loopback whose every connection runs a function
// of the test, for behaviour our own server would never show (closing kept-alive
// connections, stalling, malformed answers).
#include <dusty/core/deadline.hpp>
#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/http/h1/body_decoder.hpp>
#include <dusty/http/h1/request_parser.hpp>
#include <dusty/net/buffered_stream.hpp>
#include <dusty/net/connection.hpp>
#include <dusty/net/listener.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dusty::http::client_test {

using namespace std::chrono_literals;

/// Every wait of a test is bounded by this, so a bug fails a test instead of hanging it.
inline deadline soon() { return after(10s); }

/// Runs `fn` as the main fiber of a fresh runtime with `shards` shards, bounded in time.
template <class F>
void in_runtime(F fn, unsigned shards = 1) {
  runtime_config c;
  c.shards = shards;
  c.handle_signals = false;
  runtime rt(c);
  rt.run([&] { with_timeout(60s, fn); });
}

/// A request the fake server received.
struct seen_request {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::optional<std::string> header(std::string_view name) const {
    for (auto& [k, v] : headers) {
      if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          })) {
        return v;
      }
    }
    return std::nullopt;
  }
};

/// Reads one request (head and body) from `in`; nothing when the peer closes first or
/// sends something unparsable.
inline std::optional<seen_request> read_request(net::buffered_stream& in) {
  h1::request_parser p;
  std::size_t size = 0;
  for (;;) {
    auto r = p.parse(in.view());
    if (!r) return std::nullopt;
    if (*r != 0) {
      size = *r;
      break;
    }
    if (!in.fill(soon())) return std::nullopt;
  }
  const auto& h = p.head();
  seen_request req{std::string(h.method_token), std::string(h.target), {}, {}};
  for (auto& f : h.headers) req.headers.emplace_back(std::string(f.name), std::string(f.value));
  auto dec = h1::body_decoder::create(h, {.max_body_size = 1 << 30});
  in.consume(size);
  if (!dec) return std::nullopt;
  while (!dec->done()) {
    if (in.view().empty() && !in.fill(soon())) return std::nullopt;
    auto piece = dec->decode(in.view());
    if (!piece) return std::nullopt;
    req.body += piece->data;
    in.consume(piece->consumed);
  }
  return req;
}

inline void send(net::connection& c, std::string_view s) {
  auto r = c.write(std::as_bytes(std::span(s.data(), s.size())), soon());
  (void)r;  // the client may have gone; the test checks what the client saw
}

/// A response with a Content-Length body.
inline std::string ok(std::string_view body, std::string_view extra = {}, unsigned status = 200) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra) + "\r\n" + std::string(body);
}

/// A server on 127.0.0.1 (port chosen by the kernel) in the calling runtime: every
/// accepted connection runs `script(connection, index)` in a fiber of its own, index
/// counting from 0. Create and destroy it in a fiber of the same shard.
class fake_server {
 public:
  using script = std::function<void(net::connection&, int)>;

  explicit fake_server(script s, net::socket_address at = net::socket_address::ipv4_loopback())
      : script_(std::move(s)) {
    auto l = net::listen(at);
    EXPECT_TRUE(l) << l.error().message();
    listener_ = std::move(*l);
    acceptor_ = spawn([this] {
      for (;;) {
        auto c = listener_.accept();
        if (!c) return;
        int index = accepted_++;
        conns_.push_back(spawn([this, index, c = std::move(*c)]() mutable { script_(c, index); }));
      }
    });
  }
  ~fake_server() {
    acceptor_.cancel();
    join(acceptor_);
    listener_.close();
    for (auto& f : conns_) {
      f.cancel();
      join(f);
    }
  }
  fake_server(const fake_server&) = delete;
  fake_server& operator=(const fake_server&) = delete;

  std::uint16_t port() const { return listener_.local_address().port(); }
  std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }
  /// Connections accepted so far.
  int accepted() const { return accepted_; }

 private:
  static void join(fiber& f) {
    try {
      f.join();
    } catch (const cancelled_error&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << "fake server fiber: " << e.what();
    }
  }

  script script_;
  net::listener listener_;
  fiber acceptor_;
  std::vector<fiber> conns_;
  int accepted_ = 0;
};

/// Serves `answer(request, index-on-connection)` for every request on each connection, in
/// order, until the client closes; the connection closes after an answer when `answer`
/// sets `close`.
struct scripted_answer {
  std::string bytes;
  bool close = false;
};
inline fake_server::script serve(std::function<scripted_answer(const seen_request&, int conn, int n)> answer) {
  return [answer = std::move(answer)](net::connection& c, int conn) {
    net::buffered_stream in(c);
    for (int n = 0;; ++n) {
      auto req = read_request(in);
      if (!req) return;
      auto a = answer(*req, conn, n);
      send(c, a.bytes);
      if (a.close) return;
    }
  };
}

}  // namespace dusty::http::client_test
