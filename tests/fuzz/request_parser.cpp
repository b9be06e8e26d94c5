// The request-head parser with the body framing it chooses, chunked bodies included.
//
// Properties: the head parses alike whole and byte by byte (the parser's contract); an
// accepted request, written out again canonically (its body too, when complete), parses to
// the same request and body; a chunked body decodes as the reference decoder does
// (h1_support.hpp).
#include <dusty/http/h1/request_parser.hpp>

#include "h1_support.hpp"

#include <charconv>
#include <string>

namespace {

using namespace dusty::http::h1;

struct parsed {
  dusty::result<std::size_t> size;
  request_head head;
};

parsed parse_whole(request_parser& p, std::string_view in) { return {p.parse(in), p.head()}; }

parsed parse_bytewise(request_parser& p, std::string_view in) {
  for (std::size_t n = 1; n <= in.size(); ++n) {
    auto r = p.parse(in.substr(0, n));
    if (!r || *r != 0) return {r, p.head()};
  }
  return {p.parse(in), p.head()};
}

// The request line and fields as a client would send them; the body is not part of it.
std::string serialise(const request_head& h) {
  std::string out;
  out.append(h.method_token).append(" ").append(h.target).append(" ").append(h.protocol).append("\r\n");
  for (const auto& f : h.headers) out.append(f.name).append(": ").append(f.value).append("\r\n");
  return out + "\r\n";
}

bool same(const request_head& a, const request_head& b) {
  if (a.headers.size() != b.headers.size()) return false;
  for (std::size_t i = 0; i < a.headers.size(); ++i) {
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) return false;
  }
  return a.method == b.method && a.method_token == b.method_token && a.target == b.target && a.path == b.path &&
         a.query == b.query && a.version == b.version && a.keep_alive == b.keep_alive && a.upgrade == b.upgrade &&
         a.expect_continue == b.expect_continue && a.framing == b.framing && a.content_length == b.content_length;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = dusty::fuzz::text(data, size);
  request_parser whole_parser, bytewise_parser;
  auto whole = parse_whole(whole_parser, in);
  auto bytewise = parse_bytewise(bytewise_parser, in);
  DUSTY_FUZZ_CHECK(whole.size.has_value() == bytewise.size.has_value());
  if (!whole.size) {
    DUSTY_FUZZ_CHECK(whole.size.error() == bytewise.size.error());
    return 0;
  }
  DUSTY_FUZZ_CHECK(*whole.size == *bytewise.size);
  if (*whole.size == 0) return 0;
  DUSTY_FUZZ_CHECK(same(whole.head, bytewise.head));

  auto body_bytes = in.substr(*whole.size);
  dusty::fuzz::decoded_body body;
  if (whole.head.framing == body_framing::chunked) {
    body = dusty::fuzz::check_chunked(body_bytes);
  } else if (auto d = body_decoder::create(whole.head)) {
    body = dusty::fuzz::decode_body(*d, body_bytes, body_bytes.size());
    DUSTY_FUZZ_CHECK(body.consumed <= whole.head.content_length);
    DUSTY_FUZZ_CHECK(body.body == body_bytes.substr(0, body.consumed));
  }

  // The request written out again, its body in the same framing (one chunk if chunked).
  auto again = serialise(whole.head);
  auto head_size = again.size();
  if (body.done && whole.head.framing == body_framing::chunked) {
    if (!body.body.empty()) {
      char hex[16];
      auto end = std::to_chars(hex, hex + sizeof hex, body.body.size(), 16).ptr;
      again.append(hex, end).append("\r\n").append(body.body).append("\r\n");
    }
    again += "0\r\n\r\n";
  } else if (body.done) {
    again += body.body;
  }
  request_parser reparser;
  auto reparsed = parse_whole(reparser, again);
  DUSTY_FUZZ_CHECK(reparsed.size.has_value() && *reparsed.size == head_size);
  DUSTY_FUZZ_CHECK(same(whole.head, reparsed.head));
  if (body.done) {
    auto d = body_decoder::create(reparsed.head);
    DUSTY_FUZZ_CHECK(d.has_value());
    auto body_again = dusty::fuzz::decode_body(*d, std::string_view(again).substr(head_size), again.size());
    DUSTY_FUZZ_CHECK(body_again.done && body_again.body == body.body && head_size + body_again.consumed == again.size());
  }
  return 0;
}
