#include <dusty/http/h1/body_decoder.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>

namespace dusty::http::h1 {
namespace {

// Feeds `in` in pieces of `piece` bytes; returns the body, or the error.
result<std::string> decode_all(body_decoder& d, std::string_view in, std::size_t piece,
                               std::size_t* left = nullptr) {
  std::string body;
  std::size_t pos = 0;
  while (!d.done() && pos < in.size()) {
    auto end = std::min(in.size(), pos + piece);
    auto r = d.decode(in.substr(pos, end - pos));
    if (!r) {
      return std::unexpected(r.error());
    }
    EXPECT_GT(r->consumed, 0u);
    body += r->data;
    pos += r->consumed;
  }
  if (left != nullptr) {
    *left = in.size() - pos;
  }
  return body;
}

TEST(body_decoder, no_body_is_done_at_once) {
  body_decoder d;
  EXPECT_TRUE(d.done());
  auto r = d.decode("GET / HTTP/1.1\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->consumed, 0u);
  EXPECT_TRUE(r->data.empty());

  auto created = body_decoder::create(body_framing::none, 0);
  ASSERT_TRUE(created);
  EXPECT_TRUE(created->done());
  EXPECT_EQ(created->framing(), body_framing::none);
}

TEST(body_decoder, content_length_stops_at_the_end_of_the_body) {
  auto d = body_decoder::create(body_framing::content_length, 5);
  ASSERT_TRUE(d);
  std::size_t left = 0;
  auto body = decode_all(*d, "helloGET /next", 3, &left);
  ASSERT_TRUE(body);
  EXPECT_EQ(*body, "hello");
  EXPECT_EQ(left, 9u);
  EXPECT_TRUE(d->done());
  EXPECT_EQ(d->body_size(), 5u);
}

TEST(body_decoder, data_views_point_into_the_input) {
  auto d = body_decoder::create(body_framing::chunked, 0);
  ASSERT_TRUE(d);
  std::string in = "3;x=y\r\nabc\r\n0\r\n\r\n";
  auto r = d->decode(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->data, "abc");
  EXPECT_EQ(r->data.data(), in.data() + 7);
  EXPECT_EQ(r->consumed, 10u);
}

TEST(body_decoder, declared_length_over_the_limit_fails_before_reading) {
  body_limits limits;
  limits.max_body_size = 10;
  EXPECT_TRUE(body_decoder::create(body_framing::content_length, 10, limits));
  auto d = body_decoder::create(body_framing::content_length, 11, limits);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error(), errc::body_too_large);
  EXPECT_EQ(status_for(d.error()), status::content_too_large);
}

TEST(body_decoder, chunked_limit_counts_all_chunks) {
  body_limits limits;
  limits.max_body_size = 6;
  auto ok = body_decoder::create(body_framing::chunked, 0, limits);
  auto body = decode_all(*ok, "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", 1);
  ASSERT_TRUE(body);
  EXPECT_EQ(*body, "abcdef");

  auto over = body_decoder::create(body_framing::chunked, 0, limits);
  auto r = decode_all(*over, "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n", 64);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::body_too_large);
}

TEST(body_decoder, errors_are_sticky) {
  auto d = body_decoder::create(body_framing::chunked, 0);
  auto r = d->decode("x\r\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::invalid_chunk_size);
  EXPECT_EQ(d->decode("").error(), errc::invalid_chunk_size);
  auto again = d->decode("0\r\n\r\n");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), errc::invalid_chunk_size);
  EXPECT_FALSE(d->done());
}

TEST(body_decoder, sixty_four_bit_sizes) {
  body_limits unlimited;
  unlimited.max_body_size = UINT64_MAX;
  auto d = body_decoder::create(body_framing::chunked, 0, unlimited);
  auto r = d->decode("FFFFFFFFFFFFFFFF\r\nab");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->data, "ab");
  EXPECT_FALSE(d->done());

  auto overflow = body_decoder::create(body_framing::chunked, 0, unlimited);
  auto e = overflow->decode("1FFFFFFFFFFFFFFFF\r\n");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), errc::invalid_chunk_size);

  auto length = body_decoder::create(body_framing::content_length, UINT64_MAX, unlimited);
  ASSERT_TRUE(length);
  auto piece = length->decode("xyz");
  ASSERT_TRUE(piece);
  EXPECT_EQ(piece->data, "xyz");
  EXPECT_EQ(length->body_size(), 3u);
}

// Random bodies, random chunking with extensions and trailers, random delivery pieces:
// the decoded body must equal the original and the decoder must stop exactly at its end.
TEST(body_decoder, random_chunked_round_trip) {
  std::mt19937 rng{20240611};
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>{lo, hi}(rng); };
  for (int round = 0; round < 500; ++round) {
    std::string body;
    for (int i = uniform(0, 300); i > 0; --i) {
      body += static_cast<char>(uniform(0, 255));
    }
    std::string wire;
    std::size_t at = 0;
    while (at < body.size()) {
      auto size = std::min<std::size_t>(body.size() - at, static_cast<std::size_t>(uniform(1, 64)));
      char hex[32];
      std::snprintf(hex, sizeof hex, uniform(0, 1) != 0 ? "%zx" : "%zX", size);
      wire += std::string(static_cast<std::size_t>(uniform(0, 2)), '0') + hex;
      if (uniform(0, 3) == 0) {
        wire += " ;ext=\"v;\" ;flag";
      }
      wire += "\r\n" + body.substr(at, size) + "\r\n";
      at += size;
    }
    wire += "0\r\n";
    if (uniform(0, 2) == 0) {
      wire += "X-Trailer: value\r\nOther:\r\n";
    }
    wire += "\r\n";
    const std::string next = "GET / HTTP/1.1\r\n";
    wire += next;

    auto d = body_decoder::create(body_framing::chunked, 0);
    std::size_t left = 0;
    auto decoded = decode_all(*d, wire, static_cast<std::size_t>(uniform(1, 40)), &left);
    ASSERT_TRUE(decoded) << "round " << round << ": " << decoded.error().message();
    EXPECT_EQ(*decoded, body) << "round " << round;
    EXPECT_TRUE(d->done());
    EXPECT_EQ(left, next.size()) << "round " << round;
  }
}

}  // namespace
}  // namespace dusty::http::h1
