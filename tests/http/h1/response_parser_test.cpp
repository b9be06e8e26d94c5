#include <dusty/http/h1/response_parser.hpp>

#include <dusty/http/h1/body_decoder.hpp>

#include "http/h1/case_file.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dusty::http::h1 {
namespace {

// Parses `input` given whole, and split at every byte; both must agree. Returns the
// result of the whole parse (the head stays valid while `input` lives).
result<std::size_t> parse_all_ways(response_parser& p, const std::string& input, request_kind kind = request_kind::normal) {
  for (std::size_t cut = 1; cut < input.size(); ++cut) {
    response_parser q{p.limits()};
    q.reset(kind);
    auto first = q.parse(std::string_view(input).substr(0, cut));
    auto second = q.parse(input);
    p.reset(kind);
    auto whole = p.parse(input);
    EXPECT_EQ(whole.has_value(), second.has_value()) << "cut at " << cut;
    if (whole && second) {
      EXPECT_EQ(*whole, *second) << "cut at " << cut;
      if (first && *first != 0) {
        EXPECT_EQ(*first, *whole) << "cut at " << cut;
      }
    } else if (!whole && !second) {
      EXPECT_EQ(whole.error(), second.error()) << "cut at " << cut;
    }
  }
  p.reset(kind);
  return p.parse(input);
}

TEST(ResponseParser, ContentLength) {
  response_parser p;
  std::string in = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1";
  auto r = parse_all_ways(p, in);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, in.find("hello"));
  const auto& h = p.head();
  EXPECT_EQ(h.status, 200u);
  EXPECT_EQ(h.reason, "OK");
  EXPECT_EQ(h.version, 11u);
  ASSERT_EQ(h.headers.size(), 2u);
  EXPECT_EQ(h.headers[0].name, "Content-Type");
  EXPECT_EQ(h.headers[0].value, "text/plain");
  EXPECT_EQ(h.header("content-length"), "5");
  EXPECT_TRUE(h.keep_alive);
  EXPECT_EQ(h.framing, body_framing::content_length);
  EXPECT_EQ(h.content_length, 5u);
  EXPECT_FALSE(h.informational());
}

TEST(ResponseParser, ReasonMayBeEmptyOrMissing) {
  response_parser p;
  auto r = parse_all_ways(p, "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(p.head().status, 404u);
  EXPECT_EQ(p.head().reason, "");
  r = parse_all_ways(p, "HTTP/1.1 599 Custom Thing Here\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(p.head().reason, "Custom Thing Here");
}

TEST(ResponseParser, Chunked) {
  response_parser p;
  std::string in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n";
  auto r = parse_all_ways(p, in);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(p.head().framing, body_framing::chunked);
  EXPECT_TRUE(p.head().keep_alive);

  // The body, trailers included, goes through body_decoder.
  auto dec = body_decoder::create(body_framing::chunked, 0, {.max_body_size = UINT64_MAX});
  ASSERT_TRUE(dec);
  std::string_view rest = std::string_view(in).substr(*r);
  std::string body;
  while (!dec->done()) {
    auto piece = dec->decode(rest);
    ASSERT_TRUE(piece);
    body += piece->data;
    rest.remove_prefix(piece->consumed);
  }
  EXPECT_EQ(body, "hello");
  EXPECT_TRUE(rest.empty());
}

TEST(ResponseParser, UntilClose) {
  response_parser p;
  auto r = parse_all_ways(p, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(p.head().framing, body_framing::until_close);
  EXPECT_FALSE(p.head().keep_alive);

  r = parse_all_ways(p, "HTTP/1.0 200 OK\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(p.head().version, 10u);
  EXPECT_EQ(p.head().framing, body_framing::until_close);
  EXPECT_FALSE(p.head().keep_alive);

  // A transfer coding other than chunked last: the body runs to the close.
  r = parse_all_ways(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(p.head().framing, body_framing::until_close);
  EXPECT_FALSE(p.head().keep_alive);
}

TEST(ResponseParser, KeepAlive) {
  response_parser p;
  ASSERT_TRUE(parse_all_ways(p, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_FALSE(p.head().keep_alive);
  ASSERT_TRUE(parse_all_ways(p, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_FALSE(p.head().keep_alive);
  ASSERT_TRUE(parse_all_ways(p, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n"));
  EXPECT_TRUE(p.head().keep_alive);
  EXPECT_EQ(p.head().framing, body_framing::content_length);
  ASSERT_TRUE(parse_all_ways(p, "HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_FALSE(p.head().keep_alive);
}

TEST(ResponseParser, NoBodyForHeadAnd204And304) {
  response_parser p;
  ASSERT_TRUE(parse_all_ways(p, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", request_kind::head));
  EXPECT_EQ(p.head().framing, body_framing::none);
  EXPECT_TRUE(p.head().keep_alive);
  EXPECT_EQ(p.kind(), request_kind::head);
  ASSERT_TRUE(parse_all_ways(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", request_kind::head));
  EXPECT_EQ(p.head().framing, body_framing::none);
  ASSERT_TRUE(parse_all_ways(p, "HTTP/1.1 204 No Content\r\n\r\n"));
  EXPECT_EQ(p.head().framing, body_framing::none);
  EXPECT_TRUE(p.head().keep_alive);
  ASSERT_TRUE(parse_all_ways(p, "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"));
  EXPECT_EQ(p.head().framing, body_framing::none);
  EXPECT_TRUE(p.head().keep_alive);
}

TEST(ResponseParser, InterimResponsesAreReported) {
  response_parser p;
  std::string in =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
  std::string_view rest = in;
  std::vector<unsigned> seen;
  for (int i = 0; i < 3; ++i) {
    p.reset();
    auto r = p.parse(rest);
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_NE(*r, 0u);
    seen.push_back(p.head().status);
    if (p.head().informational()) {
      EXPECT_EQ(p.head().framing, body_framing::none);
      if (p.head().status == 103) {
        EXPECT_EQ(p.head().header("link"), "</style.css>; rel=preload");
      }
    }
    rest.remove_prefix(*r);
  }
  EXPECT_EQ(seen, (std::vector<unsigned>{100, 103, 201}));
  EXPECT_EQ(rest, "ok");
}

TEST(ResponseParser, Incomplete) {
  response_parser p;
  std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r";
  auto r = p.parse(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u);
  in += "\n";
  r = p.parse(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, in.size());
  EXPECT_EQ(p.parse(in + "more").value(), in.size());  // sticky once complete
}

TEST(ResponseParser, LargeContentLength) {
  response_parser p;
  ASSERT_TRUE(parse_all_ways(p, "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n"));
  EXPECT_EQ(p.head().content_length, UINT64_MAX);
  auto r = parse_all_ways(p, "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::invalid_response));
}

TEST(ResponseParser, MalformedIsInvalidResponse) {
  const char* cases[] = {
      "HTTP/2.0 200 OK\r\n\r\n",
      "HTTP/1.1 20 OK\r\n\r\n",
      "HTTP/1.1 2000 OK\r\n\r\n",
      "HTTP/1.1 abc OK\r\n\r\n",
      "HTTP/1.1\r\n\r\n",
      "HTTX/1.1 200 OK\r\n\r\n",
      "<html>\r\n\r\n",
      "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\n: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\x01" "b\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
      "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
  };
  for (const char* c : cases) {
    response_parser p;
    auto r = parse_all_ways(p, c);
    ASSERT_FALSE(r) << "accepted: " << c;
    EXPECT_EQ(r.error(), make_error_code(errc::invalid_response)) << c;
    EXPECT_EQ(p.parse(c).error(), r.error()) << "not sticky: " << c;
  }
}

TEST(ResponseParser, HeadSizeLimit) {
  response_parser p{{.max_head_size = 64, .max_headers = 8}};
  std::string ok = "HTTP/1.1 200 OK\r\nA: 1\r\n\r\n";
  ASSERT_TRUE(parse_all_ways(p, ok));
  std::string big = "HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a') + "\r\n\r\n";
  auto r = parse_all_ways(p, big);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::response_too_large));
  // An incomplete head is refused once it has reached the limit, without waiting for more.
  p.reset();
  r = p.parse(big.substr(0, 64));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::response_too_large));
  p.reset();
  r = p.parse(big.substr(0, 63));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u);
}

TEST(ResponseParser, HeaderCountLimit) {
  response_parser p{{.max_head_size = 4096, .max_headers = 3}};
  ASSERT_TRUE(parse_all_ways(p, "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"));
  EXPECT_EQ(p.head().headers.size(), 3u);
  auto r = parse_all_ways(p, "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::response_too_large));
}

TEST(ResponseParser, ReusableAfterReset) {
  response_parser p;
  std::string two = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  auto r = p.parse(two);
  ASSERT_TRUE(r);
  EXPECT_EQ(p.head().status, 200u);
  std::string_view rest = std::string_view(two).substr(*r);
  p.reset();
  auto r2 = p.parse(rest);
  ASSERT_TRUE(r2);
  EXPECT_EQ(*r2, rest.size());
  EXPECT_EQ(p.head().status, 404u);
  EXPECT_EQ(p.head().reason, "Not Found");
  // An error does not outlive reset() either.
  p.reset();
  ASSERT_FALSE(p.parse("garbage\r\n\r\n"));
  p.reset();
  ASSERT_TRUE(p.parse(rest));
}


// ---- data-driven cases: tests/http/h1/data/responses.md ----

std::string errc_name(std::error_code ec) {
  if (ec == errc::invalid_response) return "invalid_response";
  if (ec == errc::response_too_large) return "response_too_large";
  if (ec == errc::invalid_chunk_size) return "invalid_chunk_size";
  if (ec == errc::invalid_chunk) return "invalid_chunk";
  if (ec == errc::header_too_large) return "header_too_large";
  return ec.message();
}

const char* framing_name(body_framing f) {
  switch (f) {
    case body_framing::none: return "none";
    case body_framing::content_length: return "content-length";
    case body_framing::chunked: return "chunked";
    case body_framing::until_close: return "until-close";
  }
  return "?";
}

// Feeds `input` in pieces of the given sizes (the last one repeats), the way a connection
// receives it, and logs what the parser and the body decoder make of it.
std::string run_case(const testing::test_case& c, const std::vector<std::size_t>& pieces) {
  response_limits limits;
  request_kind kind = request_kind::normal;
  for (auto& [k, v] : c.limits) {
    if (k == "max_head_size") limits.max_head_size = std::stoul(v);
    else if (k == "max_headers") limits.max_headers = std::stoul(v);
    else if (k == "request") kind = v == "HEAD" ? request_kind::head : request_kind::normal;
    else throw std::runtime_error("unknown limit " + k);
  }
  const std::string& input = c.input;
  std::string buf;
  std::size_t fed = 0, turn = 0;
  auto more = [&] {
    if (fed == input.size()) return false;
    auto n = std::min(pieces[std::min(turn++, pieces.size() - 1)], input.size() - fed);
    std::string grown = buf + input.substr(fed, n);  // a new allocation: views must not survive
    buf.swap(grown);
    fed += n;
    return true;
  };
  std::string log;
  response_parser p{limits};
  while (!buf.empty() || fed < input.size()) {
    p.reset(kind);
    std::size_t head = 0;
    for (;;) {
      auto r = p.parse(buf);
      if (!r) return log + "error " + errc_name(r.error()) + "\n";
      if (*r != 0) {
        head = *r;
        break;
      }
      if (!more()) return log + "incomplete\n";
    }
    const response_head& h = p.head();
    log += "response\n";
    log += "status " + std::to_string(h.status) + " " + std::string(h.reason) + "\n";
    log += h.version == 11 ? "version 1.1\n" : "version 1.0\n";
    for (auto& f : h.headers) log += "header " + std::string(f.name) + ": " + std::string(f.value) + "\n";
    log += h.keep_alive ? "keep-alive yes\n" : "keep-alive no\n";
    log += "framing " + std::string(framing_name(h.framing));
    if (h.framing == body_framing::content_length) log += " " + std::to_string(h.content_length);
    log += "\n";
    const auto framing = h.framing;
    const auto length = h.content_length;
    buf.erase(0, head);
    if (framing == body_framing::none) continue;
    std::string body;
    if (framing == body_framing::until_close) {
      while (more()) {
      }
      body = buf;
      buf.clear();
    } else {
      auto dec = body_decoder::create(
          framing == body_framing::chunked ? body_framing::chunked : body_framing::content_length, length,
          {.max_body_size = UINT64_MAX});
      if (!dec) return log + "error " + errc_name(dec.error()) + "\n";
      while (!dec->done()) {
        if (buf.empty() && !more()) return log + "incomplete\n";
        auto piece = dec->decode(buf);
        if (!piece) return log + "error " + errc_name(piece.error()) + "\n";
        body += piece->data;
        buf.erase(0, piece->consumed);
      }
    }
    log += "body " + testing::escape(body) + "\n";
  }
  return log;
}

class response_cases : public ::testing::TestWithParam<testing::test_case> {};

TEST_P(response_cases, Parses) {
  const auto& c = GetParam();
  const std::size_t n = c.input.size();
  EXPECT_EQ(run_case(c, {n == 0 ? 1 : n}), c.expect) << "whole input";
  EXPECT_EQ(run_case(c, {1}), c.expect) << "byte by byte";
  for (std::size_t cut = 1; cut < n; ++cut) {
    ASSERT_EQ(run_case(c, {cut, n}), c.expect) << "split at " << cut;
  }
}

std::string case_name(const ::testing::TestParamInfo<testing::test_case>& info) {
  std::string out;
  for (char ch : info.param.name) out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return out + "_" + std::to_string(info.param.line);
}

INSTANTIATE_TEST_SUITE_P(data, response_cases, ::testing::ValuesIn(testing::load_cases("responses.md")), case_name);

}  // namespace
}  // namespace dusty::http::h1
