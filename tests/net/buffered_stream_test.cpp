#include <dusty/net/buffered_stream.hpp>

#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/net/detail/block_pool.hpp>
#include <dusty/net/error.hpp>

#include "net/script_stream.hpp"
#include "net/test_util.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace {

using namespace dusty::net::testing;
namespace net = dusty::net;
using dusty::errc;
using net::detail::block_pool;
constexpr std::size_t block = block_pool::block_size;

std::span<std::byte> writable(std::string& s) { return std::as_writable_bytes(std::span(s)); }

TEST(buffered_stream, read_until_finds_a_delimiter_split_across_reads) {
  script_stream s({"GET / HTTP/1.1\r\nHost: a\r", "\n", "\r", "\nbody"});
  net::buffered_stream in(s);
  auto n = in.read_until("\r\n\r\n", 1024);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(in.view().substr(0, *n), "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  in.consume(*n);
  EXPECT_EQ(in.view(), "body");
  // The first wait on an empty buffer was lazy; later ones read into the buffer.
  EXPECT_EQ(s.lazy_reads, 1);
}

TEST(buffered_stream, read_until_enforces_its_limit) {
  {
    script_stream s({std::string(100, 'x')});
    net::buffered_stream in(s);
    auto n = in.read_until("\r\n", 50);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error(), net::errc::input_limit);
  }
  {
    // Found, but the delimited prefix is longer than allowed.
    script_stream s({std::string(60, 'x') + "\r\n"});
    net::buffered_stream in(s);
    EXPECT_EQ(in.read_until("\r\n", 50).error(), net::errc::input_limit);
  }
  {
    // Exactly at the limit is fine.
    script_stream s({std::string(48, 'x') + "\r\n" + "next"});
    net::buffered_stream in(s);
    EXPECT_EQ(in.read_until("\r\n", 50).value(), 50u);
  }
  {
    // max_input caps every call, whatever it asks for.
    script_stream s({std::string(200, 'x') + "\r\n"});
    net::buffered_stream in(s, {.max_input = 100});
    EXPECT_EQ(in.read_until("\r\n", 1 << 20).error(), net::errc::input_limit);
    EXPECT_LE(in.data().size(), 100u);
  }
}

TEST(buffered_stream, read_until_reports_eof_and_keeps_what_arrived) {
  script_stream s({"partial line"});
  net::buffered_stream in(s);
  auto n = in.read_until("\n", 100);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), errc::eof);
  EXPECT_EQ(in.view(), "partial line");
}

TEST(buffered_stream, input_grows_beyond_one_block_up_to_max_input) {
  std::string big(3 * block, 'h');
  script_stream s;
  for (std::size_t i = 0; i < big.size(); i += 1000) s.add(big.substr(i, 1000));
  s.add("\r\n\r\n");
  net::buffered_stream in(s);
  auto n = in.read_until("\r\n\r\n", 64 * 1024);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(*n, big.size() + 4);
  EXPECT_GT(in.input_capacity(), block);
  in.consume(*n);
  EXPECT_EQ(in.input_capacity(), 0u);
}

TEST(buffered_stream, consumed_space_is_reused_before_growing) {
  std::string first(block - 10, 'a'), second(200, 'b');
  script_stream s({first, second});
  net::buffered_stream in(s);
  ASSERT_EQ(in.fill().value(), first.size());
  in.consume(first.size() - 5);
  s.read_sizes.clear();
  ASSERT_EQ(in.fill().value(), second.size());
  EXPECT_EQ(in.view(), "aaaaa" + second);
  EXPECT_EQ(in.input_capacity(), block);  // moved to the front, not grown
  EXPECT_EQ(s.read_sizes, (std::vector<std::size_t>{block - 5}));
}

TEST(buffered_stream, fill_fails_once_max_input_is_buffered) {
  script_stream s({std::string(25, 'a')});
  net::buffered_stream in(s, {.max_input = 10});
  std::size_t total = 0;
  for (int i = 0; i < 5; ++i) {
    auto n = in.fill();
    if (!n) {
      EXPECT_EQ(n.error(), net::errc::input_limit);
      break;
    }
    total += *n;
  }
  EXPECT_EQ(total, 10u);
  EXPECT_EQ(in.data().size(), 10u);
  in.consume(4);  // room again
  EXPECT_EQ(in.fill().value(), 4u);
  EXPECT_EQ(in.view(), std::string(10, 'a'));
}

TEST(buffered_stream, input_buffer_goes_back_to_the_pool_when_empty) {
  auto& pool = block_pool::local();
  std::size_t before = pool.in_use();
  script_stream s({"abc", "def"});
  net::buffered_stream in(s);
  EXPECT_EQ(in.input_capacity(), 0u);
  ASSERT_TRUE(in.fill());
  EXPECT_EQ(in.input_capacity(), block);
  EXPECT_EQ(pool.in_use(), before + 1);
  in.consume(1);
  EXPECT_EQ(pool.in_use(), before + 1);  // not empty yet
  in.consume(2);
  EXPECT_EQ(in.input_capacity(), 0u);
  EXPECT_EQ(pool.in_use(), before);
  EXPECT_TRUE(in.data().empty());
  // A failed lazy receive does not keep a block either.
  ASSERT_TRUE(in.fill());
  in.consume(in.data().size());
  EXPECT_EQ(in.fill().error(), errc::eof);
  EXPECT_EQ(in.input_capacity(), 0u);
  EXPECT_EQ(pool.in_use(), before);
}

TEST(buffered_stream, read_some_and_read_exact_drain_the_buffer_first) {
  std::string body(3 * block, 'b');
  script_stream s({"head", body});
  net::buffered_stream in(s);
  std::string two(2, '\0');
  EXPECT_EQ(in.read_some(writable(two)).value(), 2u);
  EXPECT_EQ(two, "he");
  // Two buffered bytes first, then the rest straight from the stream into the caller's
  // memory: the large read is not copied through the buffer.
  std::string rest(2 + body.size(), '\0');
  s.read_sizes.clear();
  ASSERT_TRUE(in.read_exact(writable(rest)));
  EXPECT_EQ(rest, "ad" + body);
  ASSERT_FALSE(s.read_sizes.empty());
  EXPECT_EQ(s.read_sizes.front(), body.size());
  EXPECT_EQ(in.input_capacity(), 0u);
  std::string more(1, '\0');
  EXPECT_EQ(in.read_exact(writable(more)).error(), errc::eof);
}

TEST(buffered_stream, small_writes_gather_until_flush) {
  auto& pool = block_pool::local();
  std::size_t before = pool.in_use();
  script_stream s;
  net::buffered_stream out(s);
  ASSERT_TRUE(out.write("HTTP/1.1 200 OK\r\n"));
  ASSERT_TRUE(out.write("Content-Length: 0\r\n\r\n"));
  EXPECT_TRUE(s.written.empty());
  EXPECT_EQ(out.pending_output(), 38u);
  EXPECT_EQ(pool.in_use(), before + 1);
  ASSERT_TRUE(out.flush());
  EXPECT_EQ(s.written, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(s.write_calls, (std::vector<std::size_t>{38}));
  EXPECT_EQ(out.pending_output(), 0u);
  EXPECT_EQ(pool.in_use(), before);  // the output block went back too
  ASSERT_TRUE(out.flush());          // nothing to send: no call
  EXPECT_EQ(s.write_calls.size(), 1u);
}

TEST(buffered_stream, large_write_goes_out_with_the_buffered_bytes_without_a_copy) {
  script_stream s;
  net::buffered_stream out(s);
  std::string body(10 * block, 'z');
  ASSERT_TRUE(out.write("head:"));
  ASSERT_TRUE(out.write(body));
  ASSERT_EQ(s.gathers.size(), 1u);
  ASSERT_EQ(s.gathers[0].size(), 2u);
  EXPECT_EQ(s.gathers[0][1].iov_base, body.data());  // the caller's memory, not a copy
  EXPECT_EQ(s.written, "head:" + body);
  EXPECT_EQ(out.pending_output(), 0u);
  // With nothing buffered, a large write is passed straight down.
  ASSERT_TRUE(out.write(body));
  EXPECT_EQ(s.write_calls.back(), body.size());
  EXPECT_EQ(s.gathers.size(), 1u);
}

TEST(buffered_stream, writev_puts_buffered_bytes_in_front) {
  script_stream s;
  net::buffered_stream out(s);
  std::string a = "chunk-a", b = "chunk-b";
  iovec parts[] = {{a.data(), a.size()}, {b.data(), b.size()}};
  ASSERT_TRUE(out.write("1e\r\n"));
  ASSERT_TRUE(out.writev(parts));
  ASSERT_EQ(s.gathers.size(), 1u);
  EXPECT_EQ(s.gathers[0].size(), 3u);
  EXPECT_EQ(s.gathers[0][2].iov_base, b.data());
  EXPECT_EQ(s.written, "1e\r\nchunk-achunk-b");
  // A long gather list: the buffered bytes are flushed first, the list passed as is.
  std::vector<iovec> many(40, iovec{a.data(), a.size()});
  ASSERT_TRUE(out.write("x"));
  ASSERT_TRUE(out.writev(many));
  EXPECT_EQ(s.gathers.back().size(), 40u);
  EXPECT_EQ(s.written.size(), 4 + 14 + 1 + 40 * a.size());
}

// The traffic counters a server's metrics read: every byte read from the next layer
// (buffered or read straight into the caller's buffer) and every byte written, by any
// write path.
TEST(buffered_stream, counts_bytes_received_and_written) {
  std::string big(2 * block, 'b');
  script_stream s({"GET / HTTP/1.1\r\n\r\n", big});
  net::buffered_stream io(s);
  auto n = io.read_until("\r\n\r\n", 1024);
  ASSERT_TRUE(n);
  io.consume(*n);
  std::string sink(big.size(), '\0');
  ASSERT_TRUE(io.read_exact(writable(sink)));  // a read of a block or more bypasses the buffer
  EXPECT_EQ(io.bytes_received(), 18 + big.size());

  std::string a = "chunk-a";
  iovec parts[] = {{a.data(), a.size()}, {a.data(), a.size()}};
  ASSERT_TRUE(io.write("head "));
  ASSERT_TRUE(io.writev(parts));
  ASSERT_TRUE(io.write(big));
  ASSERT_TRUE(io.flush());
  EXPECT_EQ(io.bytes_written(), 5 + 2 * a.size() + big.size());
  EXPECT_EQ(io.bytes_written(), s.written.size());
}

// The claim the design rests on: a connection parked in a receive holds no buffer.
TEST(buffered_stream, idle_connections_hold_no_buffer_while_parked) {
  dusty::runtime rt(config());
  rt.run([] {
    constexpr int idle = 100;
    auto l = net::listen(net::socket_address::ipv4_loopback());
    ASSERT_TRUE(l);
    auto& pool = block_pool::local();
    std::size_t before = pool.in_use();
    std::vector<std::pair<net::connection, net::connection>> pairs;
    std::vector<std::unique_ptr<net::buffered_stream>> readers;
    std::vector<dusty::fiber> fibers;
    pairs.reserve(idle);  // the readers refer to these connections: no reallocation
    for (int i = 0; i < idle; ++i) {
      pairs.push_back(connected_pair(*l));
      readers.push_back(std::make_unique<net::buffered_stream>(pairs.back().second));
      fibers.push_back(dusty::spawn([r = readers.back().get()] { ASSERT_TRUE(r->fill(soon())); }));
    }
    dusty::yield();  // every reader is now parked in its receive
    for (int i = 0; i < idle; ++i) {
      EXPECT_FALSE(fibers[i].done());
      EXPECT_EQ(readers[i]->input_capacity(), 0u);
    }
    EXPECT_EQ(pool.in_use(), before);
    // Data arrives: each reader takes a block just for it, and gives it back after.
    for (auto& p : pairs) ASSERT_TRUE(p.first.write(bytes("ping"), soon()));
    for (auto& f : fibers) f.join();
    EXPECT_EQ(pool.in_use(), before + idle);
    for (auto& r : readers) {
      EXPECT_EQ(r->view(), "ping");
      r->consume(4);
    }
    EXPECT_EQ(pool.in_use(), before);
  });
}

TEST(buffered_stream, round_trip_over_a_connection) {
  dusty::runtime rt(config());
  rt.run([] {
    auto [client, server] = tcp_pair();
    net::buffered_stream c(client), s(server);
    std::string body(20000, 'q');
    auto writer = dusty::spawn([&] {
      ASSERT_TRUE(c.write("POST / HTTP/1.1\r\nContent-Length: 20000\r\n\r\n", soon()));
      ASSERT_TRUE(c.write(body, soon()));
      ASSERT_TRUE(c.flush(soon()));
    });
    auto head = s.read_until("\r\n\r\n", 8192, soon());
    ASSERT_TRUE(head) << head.error().message();
    EXPECT_EQ(s.view().substr(0, *head), "POST / HTTP/1.1\r\nContent-Length: 20000\r\n\r\n");
    s.consume(*head);
    std::string got(body.size(), '\0');
    ASSERT_TRUE(s.read_exact(writable(got), soon()));
    EXPECT_EQ(got, body);
    writer.join();
  });
}

}  // namespace
