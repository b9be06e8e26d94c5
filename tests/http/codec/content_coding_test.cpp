#include <dusty/http/codec/content_coding.hpp>

#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <random>
#include <string>
#include <vector>

namespace dusty::http {
namespace {

constexpr std::array<content_coding, 2> gzip_deflate{content_coding::gzip, content_coding::deflate};
constexpr std::array<content_coding, 2> deflate_gzip{content_coding::deflate, content_coding::gzip};

// Text that compresses (repeats) mixed with noise that does not.
std::string sample(std::size_t n, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::string s;
  s.reserve(n);
  const std::string_view words[] = {"alpha ", "beta ", "gamma ", "delta\n", "{\"k\": 12}, "};
  while (s.size() < n) {
    if (rng() % 4 == 0) {
      s += static_cast<char>(rng());
    } else {
      s += words[rng() % 5];
    }
  }
  s.resize(n);
  return s;
}

std::string compress_all(content_coding c, std::string_view in, int level = 6) {
  compressor z(c, level);
  std::string out;
  z.write(in, out);
  z.finish(out);
  return out;
}

result<std::string> decompress_all(content_coding c, std::string_view in, std::uint64_t max = UINT64_MAX) {
  decompressor d(c, max);
  std::string out;
  if (auto r = d.write(in, out); !r) {
    return std::unexpected(r.error());
  }
  if (auto r = d.finish(); !r) {
    return std::unexpected(r.error());
  }
  return out;
}

// Raw deflate (RFC 1951) through zlib directly: what some servers send as "deflate".
std::string raw_deflate(std::string_view in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()) + 16, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(content_coding, parse_and_to_string) {
  EXPECT_EQ(parse_content_coding("gzip"), content_coding::gzip);
  EXPECT_EQ(parse_content_coding("GZip"), content_coding::gzip);
  EXPECT_EQ(parse_content_coding("x-gzip"), content_coding::gzip);
  EXPECT_EQ(parse_content_coding("deflate"), content_coding::deflate);
  EXPECT_EQ(parse_content_coding("Identity"), content_coding::identity);
  EXPECT_EQ(parse_content_coding("br"), std::nullopt);
  EXPECT_EQ(parse_content_coding(""), std::nullopt);
  EXPECT_EQ(parse_content_coding("gzip "), std::nullopt);
  EXPECT_EQ(to_string(content_coding::gzip), "gzip");
  EXPECT_EQ(to_string(content_coding::deflate), "deflate");
  EXPECT_EQ(to_string(content_coding::identity), "identity");
}

TEST(content_coding, negotiation_table) {
  using enum content_coding;
  struct row {
    std::optional<std::string_view> header;
    content_coding with_gzip_first, with_deflate_first;
  };
  const row rows[] = {
      {std::nullopt, identity, identity},
      {"", identity, identity},
      {"   ", identity, identity},
      {"gzip", gzip, gzip},
      {"deflate", deflate, deflate},
      {"gzip, deflate", gzip, deflate},
      {"deflate, gzip", gzip, deflate},  // equal q: the server's order decides
      {"gzip, deflate, br", gzip, deflate},
      {"br", identity, identity},
      {"identity", identity, identity},
      {"*", gzip, deflate},
      {"*;q=0", identity, identity},
      {"gzip;q=0, *", deflate, deflate},
      {"gzip;q=0, *;q=0.5", deflate, deflate},
      {"gzip;q=0.5, deflate;q=0.8", deflate, deflate},
      {"gzip;q=1.0, deflate;q=0.999", gzip, gzip},
      {"gzip;q=0.001", gzip, gzip},
      {"gzip;q=0", identity, identity},
      {"GZIP;Q=0.5", gzip, gzip},
      {"x-gzip", gzip, gzip},
      {"gzip ; q=0.7 , deflate ; q=0.3", gzip, gzip},
      {"identity;q=0", identity, identity},
      {"gzip, identity;q=0", gzip, gzip},
      {"gzip;q=0.5, identity", identity, identity},  // identity preferred explicitly
      // Malformed elements are ignored, the rest still counts.
      {"gzip;q=2, deflate", deflate, deflate},
      {"gzip;q=abc, deflate;q=0.5", deflate, deflate},
      {"gzip;q=0.12345", identity, identity},
      {"gzip;q=, deflate", deflate, deflate},
      {"g zip, deflate", deflate, deflate},
      {",,, gzip ,,", gzip, gzip},
      {"gzip;level=9", gzip, gzip},
      {"gzip;;", gzip, gzip},
      {"gzip;q", identity, identity},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(std::string(r.header.value_or("<none>")));
    EXPECT_EQ(negotiate_content_coding(r.header, gzip_deflate), r.with_gzip_first);
    EXPECT_EQ(negotiate_content_coding(r.header, deflate_gzip), r.with_deflate_first);
  }
  // Offering only gzip.
  std::array<content_coding, 1> only_gzip{gzip};
  EXPECT_EQ(negotiate_content_coding("deflate", only_gzip), identity);
  EXPECT_EQ(negotiate_content_coding("deflate, *;q=0.1", only_gzip), gzip);
  EXPECT_EQ(negotiate_content_coding("gzip", std::span<const content_coding>{}), identity);
}

TEST(content_coding, round_trip_sizes) {
  for (auto c : gzip_deflate) {
    for (std::size_t n : {0, 1, 2, 10, 100, 1000, 4095, 16384, 16385, 100000, 1 << 20}) {
      SCOPED_TRACE(std::string(to_string(c)) + " " + std::to_string(n));
      std::string in = sample(n, static_cast<unsigned>(n));
      std::string z = compress_all(c, in);
      auto out = decompress_all(c, z);
      ASSERT_TRUE(out) << out.error().message();
      EXPECT_EQ(*out, in);
    }
  }
}

TEST(content_coding, levels) {
  std::string in = sample(50000);
  for (auto c : gzip_deflate) {
    for (int level : {0, 1, 6, 9, 42}) {
      auto out = decompress_all(c, compress_all(c, in, level));
      ASSERT_TRUE(out);
      EXPECT_EQ(*out, in);
    }
  }
}

TEST(content_coding, formats_are_the_standard_ones) {
  std::string in = sample(3000);
  std::string g = compress_all(content_coding::gzip, in);
  ASSERT_GE(g.size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>(g[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(g[1]), 0x8b);
  std::string d = compress_all(content_coding::deflate, in);
  // zlib's own uncompress() only takes the RFC 1950 format.
  std::string out(in.size(), '\0');
  uLongf len = out.size();
  ASSERT_EQ(uncompress(reinterpret_cast<Bytef*>(out.data()), &len, reinterpret_cast<const Bytef*>(d.data()), d.size()),
            Z_OK);
  out.resize(len);
  EXPECT_EQ(out, in);
}

TEST(content_coding, split_points) {
  std::string in = sample(20000, 7);
  for (auto c : gzip_deflate) {
    std::string z = compress_all(c, in);
    for (std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}, std::size_t{100},
                             std::size_t{4096}}) {
      SCOPED_TRACE(std::string(to_string(c)) + " step " + std::to_string(step));
      decompressor d(c);
      std::string out;
      for (std::size_t i = 0; i < z.size(); i += step) {
        ASSERT_TRUE(d.write(std::string_view(z).substr(i, step), out));
      }
      EXPECT_TRUE(d.done());
      EXPECT_TRUE(d.finish());
      EXPECT_EQ(out, in);
      EXPECT_EQ(d.total_out(), in.size());
    }
    // Every two-piece split of a smaller stream.
    std::string small_in = sample(300, 3);
    std::string small = compress_all(c, small_in);
    for (std::size_t cut = 0; cut <= small.size(); ++cut) {
      decompressor d(c);
      std::string out;
      ASSERT_TRUE(d.write(std::string_view(small).substr(0, cut), out));
      ASSERT_TRUE(d.write(std::string_view(small).substr(cut), out));
      ASSERT_TRUE(d.finish()) << cut;
      EXPECT_EQ(out, small_in);
    }
  }
}

TEST(content_coding, streaming_flush_makes_each_piece_decodable) {
  for (auto c : gzip_deflate) {
    compressor z(c);
    decompressor d(c);
    std::string plain;
    for (int i = 0; i < 50; ++i) {
      std::string piece = "event " + std::to_string(i) + " " + sample(static_cast<std::size_t>(i * 37), i);
      std::string wire, got;
      z.write(piece, wire);
      z.flush(wire);
      ASSERT_FALSE(wire.empty());
      ASSERT_TRUE(d.write(wire, got));
      EXPECT_EQ(got, piece) << i;  // everything written so far came out
      EXPECT_FALSE(d.done());
    }
    std::string wire, got;
    z.finish(wire);
    ASSERT_TRUE(d.write(wire, got));
    EXPECT_TRUE(got.empty());
    EXPECT_TRUE(d.done());
    EXPECT_TRUE(d.finish());
  }
}

TEST(content_coding, deflate_takes_zlib_and_raw) {
  for (std::size_t n : {0, 1, 100, 70000}) {
    std::string in = sample(n, 11);
    std::string raw = raw_deflate(in);
    auto out = decompress_all(content_coding::deflate, raw);
    ASSERT_TRUE(out) << n;
    EXPECT_EQ(*out, in);
    // Raw, one byte at a time (the format is decided on the first two bytes).
    decompressor d(content_coding::deflate);
    std::string o;
    for (char ch : raw) {
      ASSERT_TRUE(d.write(std::string_view(&ch, 1), o));
    }
    EXPECT_TRUE(d.finish());
    EXPECT_EQ(o, in);
  }
  // gzip does not take raw deflate or zlib.
  EXPECT_EQ(decompress_all(content_coding::gzip, raw_deflate("hello")).error(), errc::invalid_content_encoding);
  EXPECT_EQ(decompress_all(content_coding::gzip, compress_all(content_coding::deflate, "hello")).error(),
            errc::invalid_content_encoding);
}

TEST(content_coding, gzip_concatenated_members) {
  std::string a = sample(5000, 1), b = sample(3000, 2);
  std::string z = compress_all(content_coding::gzip, a) + compress_all(content_coding::gzip, b);
  auto out = decompress_all(content_coding::gzip, z);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, a + b);
  for (std::size_t step : {std::size_t{1}, std::size_t{5}, std::size_t{999}}) {
    decompressor d(content_coding::gzip);
    std::string o;
    for (std::size_t i = 0; i < z.size(); i += step) {
      ASSERT_TRUE(d.write(std::string_view(z).substr(i, step), o));
    }
    EXPECT_TRUE(d.finish());
    EXPECT_EQ(o, a + b);
  }
}

TEST(content_coding, corrupt_input) {
  std::string in = sample(10000, 5);
  for (auto c : gzip_deflate) {
    SCOPED_TRACE(std::string(to_string(c)));
    EXPECT_EQ(decompress_all(c, "this is not compressed at all").error(), errc::invalid_content_encoding);
    std::string z = compress_all(c, in);
    // A flipped bit in the body is caught by the inflate checks or by the checksum.
    for (std::size_t pos : {z.size() / 3, z.size() / 2, z.size() - 2}) {
      std::string bad = z;
      bad[pos] = static_cast<char>(bad[pos] ^ 0x55);
      auto r = decompress_all(c, bad);
      ASSERT_FALSE(r) << pos;
      EXPECT_EQ(r.error(), errc::invalid_content_encoding);
    }
    // Trailing garbage after the end.
    EXPECT_EQ(decompress_all(c, z + "xyz").error(), errc::invalid_content_encoding);
    // Errors are sticky.
    decompressor d(c);
    std::string out;
    EXPECT_FALSE(d.write("garbage!", out));
    EXPECT_FALSE(d.write(z, out));
    EXPECT_FALSE(d.finish());
  }
}

TEST(content_coding, truncated_input) {
  std::string in = sample(10000, 9);
  for (auto c : gzip_deflate) {
    std::string z = compress_all(c, in);
    for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{5}, z.size() / 2, z.size() - 4,
                            z.size() - 1}) {
      decompressor d(c);
      std::string out;
      ASSERT_TRUE(d.write(std::string_view(z).substr(0, cut), out)) << cut;
      EXPECT_FALSE(d.done());
      auto r = d.finish();
      ASSERT_FALSE(r) << cut;
      EXPECT_EQ(r.error(), errc::invalid_content_encoding);
    }
  }
}

TEST(content_coding, output_bound) {
  std::string in(1 << 20, 'a');  // compresses to about 1 KiB
  for (auto c : gzip_deflate) {
    std::string z = compress_all(c, in);
    EXPECT_TRUE(decompress_all(c, z, in.size()));
    auto r = decompress_all(c, z, in.size() - 1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::response_too_large);
    decompressor d(c, 1000);
    std::string out;
    EXPECT_EQ(d.write(z, out).error(), errc::response_too_large);
    EXPECT_LE(out.size(), 1001u);  // stops at the bound, does not inflate the rest
    EXPECT_EQ(decompress_all(c, compress_all(c, ""), 0).value(), "");
  }
}

TEST(content_coding, moves) {
  compressor a(content_coding::gzip);
  std::string wire;
  a.write("hello ", wire);
  compressor b(std::move(a));
  b.write("world", wire);
  compressor c(content_coding::deflate);
  c = std::move(b);
  c.finish(wire);
  decompressor d(content_coding::gzip);
  decompressor e(content_coding::deflate);
  e = std::move(d);
  std::string out;
  ASSERT_TRUE(e.write(wire, out));
  EXPECT_TRUE(e.finish());
  EXPECT_EQ(out, "hello world");
}

TEST(content_coding, identity_has_no_codec) {
  EXPECT_THROW(compressor(content_coding::identity), std::invalid_argument);
  EXPECT_THROW(decompressor(content_coding::identity), std::invalid_argument);
}

}  // namespace
}  // namespace dusty::http
