#include <dusty/http/h1/request_parser.hpp>

#include <dusty/http/h1/body_decoder.hpp>

#include "http/h1/case_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace dusty::http::h1 {
namespace {

using testing::test_case;

std::string errc_name(const std::error_code& ec) {
  if (ec.category() != error_category()) {
    return "foreign:" + ec.message();
  }
  switch (static_cast<errc>(ec.value())) {
#define DUSTY_NAME(x) \
  case errc::x: return #x;
    DUSTY_NAME(bad_request)
    DUSTY_NAME(invalid_method)
    DUSTY_NAME(invalid_target)
    DUSTY_NAME(invalid_version)
    DUSTY_NAME(version_not_supported)
    DUSTY_NAME(invalid_header)
    DUSTY_NAME(invalid_line_ending)
    DUSTY_NAME(obsolete_line_folding)
    DUSTY_NAME(invalid_host)
    DUSTY_NAME(invalid_content_length)
    DUSTY_NAME(duplicate_content_length)
    DUSTY_NAME(content_length_with_transfer_encoding)
    DUSTY_NAME(invalid_transfer_encoding)
    DUSTY_NAME(unsupported_transfer_encoding)
    DUSTY_NAME(unsupported_expectation)
    DUSTY_NAME(uri_too_long)
    DUSTY_NAME(header_too_large)
    DUSTY_NAME(too_many_headers)
    DUSTY_NAME(invalid_chunk_size)
    DUSTY_NAME(invalid_chunk)
    DUSTY_NAME(body_too_large)
    DUSTY_NAME(not_found)
    DUSTY_NAME(method_not_allowed)
    DUSTY_NAME(too_many_params)
    DUSTY_NAME(too_many_query_params)
#undef DUSTY_NAME
    default: break;  // codes of the client and codecs: no parser case expects them
  }
  return "unknown";
}

std::string describe_error(const std::error_code& ec) {
  return "error " + errc_name(ec) + " " + std::to_string(to_code(status_for(ec))) + "\n";
}

std::string describe(const request_head& h) {
  using testing::escape;
  std::string out = "request\n";
  if (h.method == method::other) {
    out += "method " + escape(h.method_token) + " (other)\n";
  } else {
    EXPECT_EQ(h.method_token, to_string(h.method));
    out += "method " + std::string{to_string(h.method)} + "\n";
  }
  out += "target " + escape(h.target) + "\n";
  out += "path " + escape(h.path) + "\n";
  if (!h.query.empty()) {
    out += "query " + escape(h.query) + "\n";
  }
  out += h.version == 10 ? "version 1.0\n" : "version 1.1\n";
  for (const auto& f : h.headers) {
    out += "header " + escape(f.name) + ": " + escape(f.value) + "\n";
  }
  out += h.keep_alive ? "keep-alive yes\n" : "keep-alive no\n";
  if (h.upgrade) {
    out += "upgrade\n";
  }
  if (h.expect_continue) {
    out += "expect-continue\n";
  }
  if (h.framing == body_framing::content_length) {
    out += "content-length " + std::to_string(h.content_length) + "\n";
  } else if (h.framing == body_framing::chunked) {
    out += "chunked\n";
  }
  return out;
}

struct case_limits {
  parser_limits head;
  body_limits body;
};

case_limits limits_of(const test_case& c) {
  case_limits l;
  for (const auto& [key, value] : c.limits) {
    auto n = std::stoull(value);
    if (key == "max_request_line") {
      l.head.max_request_line = n;
    } else if (key == "max_head_size") {
      l.head.max_head_size = n;
    } else if (key == "max_headers") {
      l.head.max_headers = n;
    } else if (key == "require_host") {
      l.head.require_host = n != 0;
    } else if (key == "max_body_size") {
      l.body.max_body_size = n;
    } else if (key == "max_chunk_line") {
      l.body.max_chunk_line = n;
    } else if (key == "max_trailer_size") {
      l.body.max_trailer_size = n;
    } else {
      ADD_FAILURE() << "unknown limit " << key;
    }
  }
  return l;
}

// Plays `input` as a connection would receive it: the bytes arrive in deliveries ending at
// the offsets in `cuts`; the buffer is reallocated at each delivery when `relocate` is set,
// so any pointer the parser kept across calls would dangle (and ASan would say so).
std::string play(const test_case& c, const std::vector<std::size_t>& cuts, bool relocate) {
  const case_limits limits = limits_of(c);
  const std::string& input = c.input;
  std::string buf;
  std::size_t delivered = 0;
  std::size_t next_cut = 0;
  auto deliver = [&] {
    if (next_cut == cuts.size()) {
      return false;
    }
    std::size_t upto = cuts[next_cut++];
    if (relocate) {
      std::string fresh;
      fresh.reserve(buf.size() + (upto - delivered));
      fresh = buf;
      fresh.append(input, delivered, upto - delivered);
      buf.swap(fresh);
    } else {
      buf.append(input, delivered, upto - delivered);
    }
    delivered = upto;
    return true;
  };

  std::string log;
  request_parser parser{limits.head};
  for (;;) {
    std::size_t head_size = 0;
    for (;;) {
      auto r = parser.parse(buf);
      if (!r) {
        return log + describe_error(r.error());
      }
      if (*r != 0) {
        head_size = *r;
        break;
      }
      if (!deliver()) {
        return buf.empty() ? log : log + "incomplete\n";
      }
    }
    const request_head& head = parser.head();
    log += describe(head);
    auto decoder = body_decoder::create(head, limits.body);
    if (!decoder) {
      return log + describe_error(decoder.error());
    }
    const bool has_body = head.framing != body_framing::none;
    std::string body;
    std::size_t pos = head_size;
    while (!decoder->done()) {
      if (pos == buf.size()) {
        if (!deliver()) {
          return log + "body " + testing::escape(body) + "\nincomplete\n";
        }
        continue;
      }
      auto piece = decoder->decode(std::string_view{buf}.substr(pos));
      if (!piece) {
        return log + "body " + testing::escape(body) + "\n" + describe_error(piece.error());
      }
      EXPECT_GT(piece->consumed, 0u);
      body += piece->data;
      pos += piece->consumed;
    }
    EXPECT_EQ(decoder->body_size(), body.size());
    if (has_body) {
      log += "body " + testing::escape(body) + "\n";
    }
    buf.erase(0, pos);
    parser.reset();
    if (buf.empty() && delivered == input.size()) {
      return log;
    }
  }
}

std::vector<test_case> all_cases() {
  std::vector<test_case> out;
  for (const char* file : {"requests.md", "bodies.md", "smuggling.md", "limits.md"}) {
    try {
      auto cases = testing::load_cases(file);
      out.insert(out.end(), cases.begin(), cases.end());
    } catch (const std::exception& e) {
      out.push_back({file, "load error", 0, {}, {}, std::string{"cannot load: "} + e.what()});
    }
  }
  return out;
}

class request_cases : public ::testing::TestWithParam<test_case> {};

std::string where(const test_case& c) {
  return c.file + ":" + std::to_string(c.line) + " \"" + c.name + "\"";
}

TEST_P(request_cases, whole_input) {
  const auto& c = GetParam();
  ASSERT_FALSE(c.input.empty()) << where(c) << ": " << c.expect;
  EXPECT_EQ(play(c, {c.input.size()}, false), c.expect) << where(c);
}

TEST_P(request_cases, byte_by_byte) {
  const auto& c = GetParam();
  std::vector<std::size_t> cuts(c.input.size());
  for (std::size_t i = 0; i < cuts.size(); ++i) {
    cuts[i] = i + 1;
  }
  EXPECT_EQ(play(c, cuts, c.input.size() <= 4096), c.expect) << where(c);
}

TEST_P(request_cases, every_split_in_two) {
  const auto& c = GetParam();
  const std::size_t n = c.input.size();
  const std::size_t step = std::max<std::size_t>(1, n / 512);  // every point for inputs up to 512 bytes
  for (std::size_t k = 0; k <= n; k += step) {
    ASSERT_EQ(play(c, {k, n}, true), c.expect) << where(c) << " split at " << k;
  }
}

std::string case_name(const ::testing::TestParamInfo<test_case>& info) {
  std::string name = info.param.file.substr(0, info.param.file.find('.')) + "_";
  for (char ch : info.param.name) {
    name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  }
  return name + "_" + std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(data, request_cases, ::testing::ValuesIn(all_cases()), case_name);

// The API around the data-driven cases.

TEST(request_parser, header_lookup_is_case_insensitive_and_returns_the_first) {
  std::string in = "GET / HTTP/1.1\r\nHost: a\r\nX-Thing: one\r\nx-thing: two\r\n\r\n";
  request_parser p;
  auto r = p.parse(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, in.size());
  EXPECT_EQ(p.head().header("x-THING"), "one");
  EXPECT_EQ(p.head().header("host"), "a");
  EXPECT_FALSE(p.head().header("missing"));
}

TEST(request_parser, views_point_into_the_buffer) {
  std::string in = "POST /p?q HTTP/1.1\r\nHost: h\r\n\r\n";
  request_parser p;
  ASSERT_TRUE(p.parse(in));
  const auto& h = p.head();
  auto inside = [&](std::string_view v) {
    return v.data() >= in.data() && v.data() + v.size() <= in.data() + in.size();
  };
  EXPECT_TRUE(inside(h.target));
  EXPECT_TRUE(inside(h.path));
  EXPECT_TRUE(inside(h.query));
  EXPECT_TRUE(inside(h.headers[0].name));
  EXPECT_TRUE(inside(h.headers[0].value));
  EXPECT_TRUE(inside(h.method_token));
}

TEST(request_parser, results_are_sticky_until_reset) {
  request_parser p;
  std::string good = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET";
  ASSERT_EQ(p.parse(good).value_or(0), good.size() - 3);
  EXPECT_EQ(p.parse(good).value_or(0), good.size() - 3);

  p.reset();
  std::string bad = "GET / HTTP/1.1\r\nHost : a\r\n\r\n";
  auto r = p.parse(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::invalid_header);
  EXPECT_EQ(p.parse(bad).error(), errc::invalid_header);

  p.reset();
  EXPECT_EQ(p.parse(good).value_or(0), good.size() - 3);
}

TEST(request_parser, header_storage_is_allocated_once) {
  parser_limits limits;
  limits.max_headers = 3;
  request_parser p{limits};
  std::string three = "GET / HTTP/1.1\r\nHost: a\r\nB: b\r\nC: c\r\n\r\n";
  ASSERT_TRUE(p.parse(three));
  EXPECT_EQ(p.head().headers.size(), 3u);
  p.reset();
  std::string four = "GET / HTTP/1.1\r\nHost: a\r\nB: b\r\nC: c\r\nD: d\r\n\r\n";
  EXPECT_EQ(p.parse(four).error(), errc::too_many_headers);
}

TEST(request_parser, limits_are_clamped) {
  parser_limits limits;
  limits.max_head_size = 100;
  limits.max_request_line = 1000;
  request_parser p{limits};
  EXPECT_EQ(p.limits().max_request_line, 100u);
}

TEST(request_parser, move_keeps_working) {
  request_parser a;
  std::string in = "GET /x HTTP/1.1\r\nHo";
  ASSERT_EQ(a.parse(in).value_or(1), 0u);
  request_parser b = std::move(a);
  in += "st: y\r\n\r\n";
  ASSERT_EQ(b.parse(in).value_or(0), in.size());
  EXPECT_EQ(b.head().path, "/x");
  EXPECT_EQ(b.head().header("host"), "y");
}

}  // namespace
}  // namespace dusty::http::h1
