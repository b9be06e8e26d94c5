#include <dusty/http/h1/client_connection.hpp>

#include "http/client_support.hpp"

#include <gtest/gtest.h>

#include <string>

namespace dusty::http {
namespace {

using namespace client_test;

client_connection connect_to(const fake_server& s) {
  auto c = client_connection::connect(net::socket_address::ipv4_loopback(s.port()), soon());
  EXPECT_TRUE(c) << c.error().message();
  return std::move(*c);
}

std::string read_all(client_connection& c) {
  std::string body;
  for (;;) {
    auto piece = c.read_body_some(soon());
    EXPECT_TRUE(piece) << piece.error().message();
    if (!piece || piece->empty()) return body;
    body += *piece;
  }
}

TEST(ClientConnection, PipelinesRequestsAndReadsAnswersInOrder) {
  in_runtime([] {
    std::vector<std::string> targets;
    fake_server srv([&](net::connection& c, int) {
      net::buffered_stream in(c);
      // All three requests arrive before any answer goes out: they were pipelined.
      std::string answers;
      for (int i = 0; i < 3; ++i) {
        auto req = read_request(in);
        ASSERT_TRUE(req);
        targets.push_back(req->target);
        if (req->method == "HEAD") {
          answers += "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
        } else if (i == 1) {
          answers += "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n";
        } else {
          answers += ok("first:" + req->body);
        }
      }
      send(c, answers);
      auto more = read_request(in);  // waits for the client to close
      EXPECT_FALSE(more);
    });
    auto c = connect_to(srv);
    ASSERT_TRUE(c.write_request("POST", "/a", "test", {}, "xyz"));
    ASSERT_TRUE(c.write_request("GET", "/b", "test", {}, ""));
    ASSERT_TRUE(c.write_request("HEAD", "/c", "test", {}, ""));
    EXPECT_EQ(c.in_flight(), 3u);
    ASSERT_TRUE(c.flush(soon()));

    ASSERT_TRUE(c.read_head(soon()));
    EXPECT_EQ(c.head().status, 200u);
    EXPECT_EQ(read_all(c), "first:xyz");
    EXPECT_TRUE(c.reusable());

    ASSERT_TRUE(c.read_head(soon()));
    EXPECT_EQ(c.head().framing, body_framing::chunked);
    char small[2];
    std::string body;
    for (;;) {
      auto n = c.read_body(small, soon());
      ASSERT_TRUE(n);
      if (*n == 0) break;
      body.append(small, *n);
    }
    EXPECT_EQ(body, "abcde");
    EXPECT_EQ(c.body_read(), 5u);

    ASSERT_TRUE(c.read_head(soon()));
    EXPECT_EQ(c.head().framing, body_framing::none);  // HEAD: no body despite Content-Length
    EXPECT_TRUE(c.body_done());
    EXPECT_EQ(c.in_flight(), 0u);
    EXPECT_TRUE(c.reusable());
    EXPECT_FALSE(c.peer_closed());
    EXPECT_EQ(targets, (std::vector<std::string>{"/a", "/b", "/c"}));
  });
}

TEST(ClientConnection, SkipsInterimResponses) {
  in_runtime([] {
    fake_server srv(serve([](const seen_request&, int, int) {
      return scripted_answer{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: <a>\r\n\r\n" + ok("done")};
    }));
    auto c = connect_to(srv);
    ASSERT_TRUE(c.write_request("GET", "/", "test", {}, ""));
    ASSERT_TRUE(c.read_head(soon()));  // flushes by itself
    EXPECT_EQ(c.head().status, 200u);
    EXPECT_EQ(read_all(c), "done");
  });
}

TEST(ClientConnection, RejectsUnaskedSwitchingProtocols) {
  in_runtime([] {
    fake_server srv(serve([](const seen_request&, int, int) {
      return scripted_answer{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"};
    }));
    auto c = connect_to(srv);
    ASSERT_TRUE(c.write_request("GET", "/", "test", {}, ""));
    auto r = c.read_head(soon());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(errc::invalid_response));
    EXPECT_FALSE(c.reusable());
  });
}

TEST(ClientConnection, UntilCloseBody) {
  in_runtime([] {
    fake_server srv(serve([](const seen_request&, int, int) {
      return scripted_answer{"HTTP/1.0 200 OK\r\n\r\nall of it, until the end", true};
    }));
    auto c = connect_to(srv);
    ASSERT_TRUE(c.write_request("GET", "/", "test", {}, ""));
    ASSERT_TRUE(c.read_head(soon()));
    EXPECT_EQ(c.head().framing, body_framing::until_close);
    EXPECT_EQ(read_all(c), "all of it, until the end");
    EXPECT_TRUE(c.body_done());
    EXPECT_FALSE(c.reusable());
  });
}

TEST(ClientConnection, CloseBeforeTheResponseIsEof) {
  in_runtime([] {
    fake_server srv([](net::connection& c, int) {
      net::buffered_stream in(c);
      (void)read_request(in);  // and close without answering
    });
    auto c = connect_to(srv);
    ASSERT_TRUE(c.write_request("GET", "/", "test", {}, ""));
    auto r = c.read_head(soon());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), dusty::errc::eof);
    EXPECT_FALSE(c.response_started());
    EXPECT_FALSE(c.reusable());
  });
}

TEST(ClientConnection, CloseInTheMiddle) {
  in_runtime([] {
    fake_server srv(serve([](const seen_request& req, int, int) {
      if (req.target == "/head") return scripted_answer{"HTTP/1.1 200 OK\r\nContent-Le", true};
      return scripted_answer{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true};
    }));
    auto c = connect_to(srv);
    ASSERT_TRUE(c.write_request("GET", "/head", "test", {}, ""));
    auto r = c.read_head(soon());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(errc::invalid_response));
    EXPECT_TRUE(c.response_started());

    auto c2 = connect_to(srv);
    ASSERT_TRUE(c2.write_request("GET", "/body", "test", {}, ""));
    ASSERT_TRUE(c2.read_head(soon()));
    auto piece = c2.read_body_some(soon());
    ASSERT_TRUE(piece);
    EXPECT_EQ(*piece, "abc");
    auto end = c2.read_body_some(soon());
    ASSERT_FALSE(end);
    EXPECT_EQ(end.error(), dusty::errc::eof);
    EXPECT_FALSE(c2.reusable());
  });
}

TEST(ClientConnection, PeerClosedSeesAnIdleClose) {
  in_runtime([] {
    fake_server srv(serve([](const seen_request&, int, int) { return scripted_answer{ok("x"), true}; }));
    auto c = connect_to(srv);
    ASSERT_TRUE(c.write_request("GET", "/", "test", {}, ""));
    ASSERT_TRUE(c.read_head(soon()));
    EXPECT_EQ(read_all(c), "x");
    EXPECT_TRUE(c.reusable());  // the response did not say close
    bool closed = false;
    for (int i = 0; i < 200 && !closed; ++i) {
      closed = c.peer_closed();
      if (!closed) sleep_for(5ms);
    }
    EXPECT_TRUE(closed);
  });
}

TEST(ClientConnection, SkipBodyAndItsBound) {
  in_runtime([] {
    fake_server srv(serve([](const seen_request& req, int, int) {
      return scripted_answer{ok(std::string(req.target == "/big" ? 100000 : 100, 'b'))};
    }));
    auto c = connect_to(srv);
    ASSERT_TRUE(c.write_request("GET", "/small", "test", {}, ""));
    ASSERT_TRUE(c.write_request("GET", "/small", "test", {}, ""));
    ASSERT_TRUE(c.read_head(soon()));
    // read_head drops the unread body of the previous response itself.
    ASSERT_TRUE(c.read_head(soon()));
    ASSERT_TRUE(c.skip_body(soon()));
    EXPECT_TRUE(c.reusable());
    ASSERT_TRUE(c.write_request("GET", "/big", "test", {}, ""));
    ASSERT_TRUE(c.read_head(soon()));
    auto r = c.skip_body(soon(), 1000);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(errc::response_too_large));
    EXPECT_FALSE(c.reusable());
  });
}

TEST(ClientConnection, RefusesFieldsThatWouldInjectHeaders) {
  in_runtime([] {
    fake_server srv(serve([](const seen_request&, int, int) { return scripted_answer{ok("")}; }));
    auto c = connect_to(srv);
    header_field bad[] = {{"X-A", "1\r\nX-Injected: 2"}};
    auto r = c.write_request("GET", "/", "test", bad, "");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(errc::invalid_header));
    EXPECT_FALSE(c.write_request("GET", "/a b", "test", {}, ""));
    EXPECT_FALSE(c.write_request("G T", "/", "test", {}, ""));
    EXPECT_EQ(c.in_flight(), 0u);
    ASSERT_TRUE(c.write_request("GET", "/", "test", {}, ""));
    ASSERT_TRUE(c.read_head(soon()));
    EXPECT_EQ(c.head().status, 200u);
  });
}

TEST(ClientConnection, ChunkedUploadAndReadGap) {
  in_runtime([] {
    fake_server srv([](net::connection& c, int) {
      net::buffered_stream in(c);
      auto req = read_request(in);
      ASSERT_TRUE(req);
      EXPECT_EQ(req->header("transfer-encoding"), "chunked");
      send(c, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n" + req->body);
      sleep_for(10s);  // then stall: the client's read gap ends it
    });
    auto c = connect_to(srv);
    ASSERT_TRUE(c.write_head("PUT", "/up"));
    ASSERT_TRUE(c.write_field("Host", "test"));
    ASSERT_TRUE(c.write_field("Transfer-Encoding", "chunked"));
    ASSERT_TRUE(c.end_head());
    ASSERT_TRUE(c.write_chunk("hello "));
    ASSERT_TRUE(c.write_chunk(""));
    ASSERT_TRUE(c.write_chunk("world"));
    ASSERT_TRUE(c.end_chunks());
    ASSERT_TRUE(c.flush(soon()));
    c.set_read_timeout(100ms);
    ASSERT_TRUE(c.read_head(soon()));
    auto piece = c.read_body_some(soon());
    ASSERT_TRUE(piece);
    EXPECT_EQ(*piece, "hello world");
    auto r = c.read_body_some(soon());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), dusty::errc::timed_out);
    EXPECT_FALSE(c.reusable());
  });
}

}  // namespace
}  // namespace dusty::http
