#include <dusty/net/detail/dns_message.hpp>

#include <dusty/net/error.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

namespace {

namespace dns = dusty::net::detail::dns;
namespace net = dusty::net;

using bytes_t = std::vector<std::byte>;

// Builds messages byte by byte, so the tests state exactly what is on the wire.
struct writer {
  bytes_t b;
  writer& u8(unsigned v) {
    b.push_back(std::byte(v & 0xFF));
    return *this;
  }
  writer& u16(unsigned v) { return u8(v >> 8).u8(v); }
  writer& u32(std::uint32_t v) { return u16(v >> 16).u16(v & 0xFFFF); }
  // Uncompressed name, "" for the root.
  writer& name(std::string_view n) {
    while (!n.empty()) {
      auto dot = n.find('.');
      auto label = n.substr(0, dot);
      u8(static_cast<unsigned>(label.size()));
      for (char c : label) u8(static_cast<unsigned char>(c));
      n.remove_prefix(dot == std::string_view::npos ? n.size() : dot + 1);
    }
    return u8(0);
  }
  writer& pointer(unsigned offset) { return u8(0xC0 | offset >> 8).u8(offset); }
  writer& header(unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns = 0, unsigned ar = 0) {
    return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
  }
};

constexpr unsigned response = 0x8180;  // QR, RD, RA, NOERROR

// www.example.com: CNAME example.com (compressed), example.com A 93.184.216.34, and
// AAAA for example.com, each name after the first a compression pointer.
bytes_t cname_reply(unsigned id = 0x1234) {
  writer w;
  w.header(id, response, 1, 3);
  w.name("www.example.com").u16(dns::type_a).u16(dns::class_in);    // question at 12
  w.pointer(12).u16(dns::type_cname).u16(dns::class_in).u32(600).u16(2).pointer(16);  // -> example.com
  w.pointer(16).u16(dns::type_a).u16(dns::class_in).u32(300).u16(4).u8(93).u8(184).u8(216).u8(34);
  w.pointer(16).u16(dns::type_a).u16(dns::class_in).u32(100).u16(4).u8(93).u8(184).u8(216).u8(35);
  return w.b;
}

TEST(DnsMessage, ValidHostNames) {
  EXPECT_TRUE(dns::valid_host_name("example.com"));
  EXPECT_TRUE(dns::valid_host_name("example.com."));
  EXPECT_TRUE(dns::valid_host_name("a"));
  EXPECT_TRUE(dns::valid_host_name("_sip._tcp.example-1.org"));
  EXPECT_TRUE(dns::valid_host_name(std::string(63, 'a') + ".com"));
  EXPECT_FALSE(dns::valid_host_name(std::string(64, 'a') + ".com"));
  EXPECT_FALSE(dns::valid_host_name(""));
  EXPECT_FALSE(dns::valid_host_name("."));
  EXPECT_FALSE(dns::valid_host_name("a..b"));
  EXPECT_FALSE(dns::valid_host_name(".a"));
  EXPECT_FALSE(dns::valid_host_name("a b"));
  EXPECT_FALSE(dns::valid_host_name("a/b"));
  EXPECT_FALSE(dns::valid_host_name("caf\xc3\xa9.fr"));
  EXPECT_FALSE(dns::valid_host_name("example.com.."));
  // 253 characters is the most a name may have.
  std::string longest;
  while (longest.size() < 253) longest += longest.empty() ? "a" : ".a";
  ASSERT_EQ(longest.size(), 253u);
  EXPECT_TRUE(dns::valid_host_name(longest));
  EXPECT_TRUE(dns::valid_host_name(longest + "."));
  EXPECT_FALSE(dns::valid_host_name(longest + "a"));
}

TEST(DnsMessage, CanonicalName) {
  EXPECT_EQ(dns::canonical_name("WWW.Example.COM."), "www.example.com");
  EXPECT_EQ(dns::canonical_name("a"), "a");
}

TEST(DnsMessage, BuildsQuery) {
  auto q = dns::build_query(0xBEEF, "Example.com.", dns::type_aaaa);
  ASSERT_TRUE(q);
  writer w;
  w.header(0xBEEF, 0x0100, 1, 0).name("Example.com").u16(dns::type_aaaa).u16(dns::class_in);
  EXPECT_EQ(*q, w.b);
  EXPECT_EQ(dns::build_query(1, "a..b", dns::type_a).error(), net::errc::invalid_host_name);

  // A query parses back as a query.
  auto m = dns::parse(*q);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->id, 0xBEEF);
  EXPECT_FALSE(m->is_response);
  EXPECT_EQ(m->question_name, "example.com");
  EXPECT_EQ(m->question_type, dns::type_aaaa);
  EXPECT_EQ(m->question_class, dns::class_in);
}

TEST(DnsMessage, ParsesCompressedCnameChain) {
  auto bytes = cname_reply();
  auto m = dns::parse(bytes);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->id, 0x1234);
  EXPECT_TRUE(m->is_response);
  EXPECT_FALSE(m->truncated);
  EXPECT_EQ(m->code, dns::rcode::no_error);
  EXPECT_EQ(m->question_name, "www.example.com");
  ASSERT_EQ(m->answers.size(), 3u);
  EXPECT_EQ(m->answers[0].name, "www.example.com");
  EXPECT_EQ(std::get<std::string>(m->answers[0].data), "example.com");
  EXPECT_EQ(m->answers[1].name, "example.com");
  EXPECT_EQ(m->answers[1].ttl, 300u);

  auto a = dns::extract(*m, "WWW.example.com.", dns::type_a);
  ASSERT_EQ(a.v4.size(), 2u);
  EXPECT_EQ(a.v4[0], (std::array<std::uint8_t, 4>{93, 184, 216, 34}));
  EXPECT_EQ(a.v4[1], (std::array<std::uint8_t, 4>{93, 184, 216, 35}));
  EXPECT_EQ(a.ttl, 100u);  // the smallest on the chain
  EXPECT_TRUE(dns::extract(*m, "www.example.com", dns::type_aaaa).empty());
  EXPECT_TRUE(dns::extract(*m, "other.example.com", dns::type_a).empty());
}

TEST(DnsMessage, CnameLoopEnds) {
  writer w;
  w.header(7, response, 1, 2).name("a.test").u16(dns::type_a).u16(dns::class_in);
  w.pointer(12).u16(dns::type_cname).u16(dns::class_in).u32(60).u16(8).name("b.test");
  w.name("b.test").u16(dns::type_cname).u16(dns::class_in).u32(60).u16(2).pointer(12);
  auto m = dns::parse(w.b);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_TRUE(dns::extract(*m, "a.test", dns::type_a).empty());
}

TEST(DnsMessage, AaaaAndTtlTopBit) {
  writer w;
  w.header(9, response, 1, 1).name("v6.test").u16(dns::type_aaaa).u16(dns::class_in);
  w.pointer(12).u16(dns::type_aaaa).u16(dns::class_in).u32(0x80000010).u16(16);
  for (int i = 0; i < 15; ++i) w.u8(0);
  w.u8(1);
  auto m = dns::parse(w.b);
  ASSERT_TRUE(m);
  auto a = dns::extract(*m, "v6.test", dns::type_aaaa);
  ASSERT_EQ(a.v6.size(), 1u);
  EXPECT_EQ(a.v6[0][15], 1);
  EXPECT_EQ(a.ttl, 0u);  // RFC 2181 section 8
}

TEST(DnsMessage, RcodesTruncationAndSoa) {
  writer w;
  w.header(3, 0x8183, 1, 0, 1).name("missing.test").u16(dns::type_a).u16(dns::class_in);
  w.name("test").u16(dns::type_soa).u16(dns::class_in).u32(900).u16(0);
  std::size_t rdata = w.b.size() - 2;
  w.name("ns.test").name("admin.test").u32(1).u32(2).u32(3).u32(4).u32(30);
  std::size_t len = w.b.size() - rdata - 2;
  w.b[rdata] = std::byte(len >> 8);
  w.b[rdata + 1] = std::byte(len & 0xFF);
  auto m = dns::parse(w.b);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->code, dns::rcode::name_error);
  ASSERT_TRUE(m->negative_ttl);
  EXPECT_EQ(*m->negative_ttl, 30u);

  // TC set and the answer section cut short: the header and question still count.
  writer t;
  t.header(4, response | 0x0200, 1, 5).name("big.test").u16(dns::type_a).u16(dns::class_in).u8(0xC0);
  auto tm = dns::parse(t.b);
  ASSERT_TRUE(tm) << tm.error().message();
  EXPECT_TRUE(tm->truncated);
  EXPECT_EQ(tm->question_name, "big.test");
  EXPECT_TRUE(tm->answers.empty());
  // Without TC the same cut is malformed.
  t.b[2] = std::byte(0x81);
  EXPECT_EQ(dns::parse(t.b).error(), net::errc::dns_failure);
}

TEST(DnsMessage, RejectsCompressionLoops) {
  {  // a pointer to itself
    writer w;
    w.header(1, response, 1, 0).pointer(12).u16(1).u16(1);
    EXPECT_FALSE(dns::parse(w.b));
  }
  {  // two pointers to each other: 12 -> 14 -> 12
    writer w;
    w.header(1, response, 1, 0).pointer(14).pointer(12).u16(1).u16(1);
    EXPECT_FALSE(dns::parse(w.b));
  }
  {  // a label, then a pointer back to the label's start: a name that never ends
    writer w;
    w.header(1, response, 1, 0).u8(1).u8('a').pointer(12).u16(1).u16(1);
    EXPECT_FALSE(dns::parse(w.b));
  }
  {  // a forward pointer
    writer w;
    w.header(1, response, 1, 0).pointer(20).u16(1).u16(1).name("x");
    EXPECT_FALSE(dns::parse(w.b));
  }
  {  // a CNAME target that points at itself
    writer w;
    w.header(1, response, 1, 1).name("a.test").u16(dns::type_a).u16(dns::class_in);
    w.pointer(12).u16(dns::type_cname).u16(dns::class_in).u32(60).u16(2);
    w.pointer(static_cast<unsigned>(w.b.size()));
    EXPECT_FALSE(dns::parse(w.b));
  }
  // Names longer than 255 octets through pointers: question i is 63 'a's and a pointer
  // to question i-1, so question 3 is 4 * 64 + 1 = 257 octets long.
  for (unsigned questions : {3u, 4u}) {
    writer w;
    w.header(1, response, questions, 0);
    std::size_t prev = 0;
    for (unsigned i = 0; i < questions; ++i) {
      std::size_t here = w.b.size();
      w.u8(63);
      for (int j = 0; j < 63; ++j) w.u8('a');
      if (i > 0)
        w.pointer(static_cast<unsigned>(prev));
      else
        w.u8(0);
      w.u16(dns::type_a).u16(dns::class_in);
      prev = here;
    }
    EXPECT_EQ(static_cast<bool>(dns::parse(w.b)), questions == 3) << questions;
  }
  {  // reserved label types 0x40 and 0x80
    writer w;
    w.header(1, response, 1, 0).u8(0x41).u8('a').u8(0).u16(1).u16(1);
    EXPECT_FALSE(dns::parse(w.b));
  }
}

TEST(DnsMessage, DotInsideLabelIsNotASeparator) {
  writer w;
  w.header(1, response, 1, 1).name("a.b").u16(dns::type_a).u16(dns::class_in);
  // Owner name: one label "a.b" (with a real dot byte).
  w.u8(3).u8('a').u8('.').u8('b').u8(0).u16(dns::type_a).u16(dns::class_in).u32(60).u16(4).u32(0x01020304);
  auto m = dns::parse(w.b);
  ASSERT_TRUE(m);
  EXPECT_NE(m->answers[0].name, "a.b");
  EXPECT_TRUE(dns::extract(*m, "a.b", dns::type_a).empty());
}

TEST(DnsMessage, RejectsBadRecordLengths) {
  writer w;
  w.header(1, response, 1, 1).name("a.test").u16(dns::type_a).u16(dns::class_in);
  w.pointer(12).u16(dns::type_a).u16(dns::class_in).u32(60).u16(5).u32(0x01020304).u8(5);
  EXPECT_FALSE(dns::parse(w.b));
  writer x;  // rdlength past the end
  x.header(1, response, 1, 1).name("a.test").u16(dns::type_a).u16(dns::class_in);
  x.pointer(12).u16(99).u16(dns::class_in).u32(60).u16(400).u32(0);
  EXPECT_FALSE(dns::parse(x.b));
  writer c;  // CNAME whose name runs past its rdata
  c.header(1, response, 1, 1).name("a.test").u16(dns::type_a).u16(dns::class_in);
  c.pointer(12).u16(dns::type_cname).u16(dns::class_in).u32(60).u16(2).name("long.name");
  EXPECT_FALSE(dns::parse(c.b));
}

TEST(DnsMessage, EveryPrefixOfAReplyIsSafe) {
  auto full = cname_reply();
  for (std::size_t n = 0; n < full.size(); ++n) {
    auto m = dns::parse(std::span(full).first(n));
    EXPECT_FALSE(m) << "prefix of " << n << " bytes";
  }
  EXPECT_TRUE(dns::parse(full));
}

TEST(DnsMessage, RandomAndMutatedBytesNeverCrash) {
  std::mt19937 rng(12345);
  auto base = cname_reply();
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    bytes_t b;
    if (i % 2 == 0) {
      b.resize(rng() % 600);
      for (auto& x : b) x = std::byte(rng() & 0xFF);
      if (b.size() > 12 && i % 4 == 0) {
        // Plausible counts make the parser go further than the header.
        b[4] = b[6] = b[8] = b[10] = std::byte{0};
        b[5] = std::byte(1);
        b[7] = std::byte(rng() % 4);
      }
    } else {
      b = base;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) b[rng() % b.size()] = std::byte(rng() & 0xFF);
      if (rng() % 3 == 0) b.resize(rng() % b.size());
    }
    auto m = dns::parse(b);
    if (m) {
      ++parsed;
      (void)dns::extract(*m, "www.example.com", dns::type_a);
      (void)dns::extract(*m, m->question_name, dns::type_aaaa);
    }
  }
  EXPECT_GT(parsed, 0);  // some mutations keep the message valid
}

}  // namespace
