#include <dusty/http/codec/query.hpp>

#include <gtest/gtest.h>

#include <array>
#include <memory_resource>
#include <string>

namespace dusty::http {
namespace {

TEST(percent_decode, escapes) {
  EXPECT_EQ(percent_decode("a%20b"), "a b");
  EXPECT_EQ(percent_decode("%41%42%43"), "ABC");
  EXPECT_EQ(percent_decode("%e2%82%AC"), "\xe2\x82\xac");
  EXPECT_EQ(percent_decode("%2F"), "/");
  EXPECT_EQ(percent_decode("%00x"), std::string("\0x", 2));
  EXPECT_EQ(percent_decode("%25"), "%");
  EXPECT_EQ(percent_decode("%2525"), "%25");  // decoded once only
  EXPECT_EQ(percent_decode(""), "");
}

TEST(percent_decode, invalid_escapes_are_kept) {
  EXPECT_EQ(percent_decode("%"), "%");
  EXPECT_EQ(percent_decode("a%"), "a%");
  EXPECT_EQ(percent_decode("%4"), "%4");
  EXPECT_EQ(percent_decode("%4g"), "%4g");
  EXPECT_EQ(percent_decode("%g4"), "%g4");
  EXPECT_EQ(percent_decode("%%41"), "%A");
  EXPECT_EQ(percent_decode("100%"), "100%");
}

TEST(percent_decode, plus) {
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b", plus_is_space::yes), "a b");
  EXPECT_EQ(percent_decode("a%2Bb", plus_is_space::yes), "a+b");
  EXPECT_TRUE(needs_decoding("a+b", plus_is_space::yes));
  EXPECT_FALSE(needs_decoding("a+b", plus_is_space::no));
  EXPECT_FALSE(needs_decoding("a%zz"));
  EXPECT_TRUE(needs_decoding("a%7a"));
}

TEST(percent_decode, in_place) {
  std::string s = "x%20y%21";
  s.resize(percent_decode(s, s));
  EXPECT_EQ(s, "x y!");
}

TEST(parse_query, pairs_without_allocation) {
  std::string raw = "a=1&b=two&c";
  std::array<query_param, 8> out;
  std::array<char, 64> scratch;
  auto n = parse_query(raw, out, scratch);
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 3u);
  EXPECT_EQ(out[0].key, "a");
  EXPECT_EQ(out[0].value, "1");
  EXPECT_EQ(out[1].key, "b");
  EXPECT_EQ(out[1].value, "two");
  EXPECT_EQ(out[2].key, "c");
  EXPECT_EQ(out[2].value, "");
  // Nothing needed decoding: the views point into the raw string.
  EXPECT_EQ(out[1].value.data(), raw.data() + 6);
}

TEST(parse_query, decoded_components_use_the_scratch) {
  std::string raw = "q=hello+world&name=J%C3%BCrgen&plain=x&%6B%65%79=v";
  std::array<query_param, 8> out;
  std::string scratch(raw.size(), '\0');
  auto n = parse_query(raw, out, scratch);
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 4u);
  EXPECT_EQ(out[0].value, "hello world");
  EXPECT_EQ(out[1].value, "J\xc3\xbcrgen");
  EXPECT_EQ(out[2].value, "x");
  EXPECT_EQ(out[3].key, "key");
  EXPECT_EQ(out[3].value, "v");
  EXPECT_TRUE(out[0].value.data() >= scratch.data() && out[0].value.data() < scratch.data() + scratch.size());
  EXPECT_EQ(out[2].value.data(), raw.data() + raw.find("=x") + 1);
}

TEST(parse_query, edge_cases) {
  std::array<query_param, 8> out;
  std::array<char, 64> scratch;
  auto parse = [&](std::string_view raw) {
    std::string log;
    auto n = parse_query(raw, out, scratch);
    EXPECT_TRUE(n);
    for (std::size_t i = 0; i < n.value_or(0); ++i) {
      log += "[" + std::string{out[i].key} + "=" + std::string{out[i].value} + "]";
    }
    return log;
  };
  EXPECT_EQ(parse(""), "");
  EXPECT_EQ(parse("&"), "");
  EXPECT_EQ(parse("&&a=1&&b=2&"), "[a=1][b=2]");
  EXPECT_EQ(parse("="), "[=]");
  EXPECT_EQ(parse("=x"), "[=x]");
  EXPECT_EQ(parse("a="), "[a=]");
  EXPECT_EQ(parse("a=b=c"), "[a=b=c]");
  EXPECT_EQ(parse("a=%3D&b=%26"), "[a==][b=&]");
  EXPECT_EQ(parse("a=%&b=%zz&c=100%"), "[a=%][b=%zz][c=100%]");
  EXPECT_EQ(parse("a+b=c+d"), "[a b=c d]");
  EXPECT_EQ(parse("k=1&k=2"), "[k=1][k=2]");
  EXPECT_EQ(parse(";=;"), "[;=;]");
}

TEST(parse_query, too_many_params) {
  std::array<query_param, 2> out;
  std::array<char, 64> scratch;
  auto ok = parse_query("a=1&&b=2&", out, scratch);  // empty pairs do not count
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 2u);
  auto n = parse_query("a=1&b=2&c=3", out, scratch);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), errc::too_many_query_params);
  EXPECT_EQ(status_for(n.error()), status::bad_request);
}

TEST(query_params, get_returns_the_first_match) {
  query_params q;
  ASSERT_TRUE(q.parse("search=tea&page=2&search=coffee&flag"));
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q.get("search"), "tea");
  EXPECT_EQ(q.get("page"), "2");
  EXPECT_EQ(q.get("flag"), "");
  EXPECT_TRUE(q.contains("flag"));
  EXPECT_FALSE(q.get("missing"));
  EXPECT_FALSE(q.get("Search"));  // keys are case-sensitive
  std::string keys;
  for (const auto& p : q) {
    keys += p.key;
  }
  EXPECT_EQ(keys, "searchpagesearchflag");
}

TEST(query_params, decodes_and_survives_move_construction) {
  std::string raw = "name=J%C3%BCrgen+M&x=1";
  query_params q;
  ASSERT_TRUE(q.parse(raw));
  query_params moved{std::move(q)};
  EXPECT_EQ(moved.get("name"), "J\xc3\xbcrgen M");
  EXPECT_EQ(moved.get("x"), "1");
}

TEST(query_params, limit_leaves_it_empty) {
  query_params q;
  ASSERT_TRUE(q.parse("a=1"));
  auto r = q.parse("a=1&b=2&c=3", 2);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::too_many_query_params);
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.parse("a=1&b=2", 2));
  EXPECT_EQ(q.size(), 2u);
  EXPECT_TRUE(q.parse(""));
  EXPECT_TRUE(q.empty());
}

// Counts what the resource hands out, on top of a monotonic arena.
class counting_resource : public std::pmr::memory_resource {
 public:
  explicit counting_resource(std::pmr::memory_resource* upstream) : upstream_{upstream} {}
  int allocations = 0;

 private:
  void* do_allocate(std::size_t bytes, std::size_t align) override {
    ++allocations;
    return upstream_->allocate(bytes, align);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
    upstream_->deallocate(p, bytes, align);
  }
  bool do_is_equal(const memory_resource& other) const noexcept override { return this == &other; }
  std::pmr::memory_resource* upstream_;
};

TEST(query_params, uses_the_given_resource) {
  std::array<std::byte, 4096> buffer;
  std::pmr::monotonic_buffer_resource arena{buffer.data(), buffer.size(), std::pmr::null_memory_resource()};
  counting_resource counter{&arena};
  query_params q{&counter};
  ASSERT_TRUE(q.parse("a=1&b=2"));
  EXPECT_EQ(counter.allocations, 1);  // the pair array only
  ASSERT_TRUE(q.parse("a=%41&b=2"));
  EXPECT_EQ(counter.allocations, 2);  // plus the text buffer; the pair array is reused
  EXPECT_EQ(q.get("a"), "A");
}

}  // namespace
}  // namespace dusty::http
