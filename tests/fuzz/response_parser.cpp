// The response-head parser, as the client runs it, for a GET and for a HEAD.
//
// Properties: the head parses alike whole and byte by byte; a HEAD response never has a
// body; a chunked body decodes as the reference decoder does.
#include <dusty/http/h1/response_parser.hpp>

#include "h1_support.hpp"

namespace {

using namespace dusty::http::h1;

bool same(const response_head& a, const response_head& b) {
  if (a.headers.size() != b.headers.size()) return false;
  for (std::size_t i = 0; i < a.headers.size(); ++i) {
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) return false;
  }
  return a.status == b.status && a.reason == b.reason && a.version == b.version && a.keep_alive == b.keep_alive &&
         a.framing == b.framing && a.content_length == b.content_length;
}

void check(std::string_view in, request_kind kind) {
  response_parser whole, bytewise;
  whole.reset(kind);
  bytewise.reset(kind);
  auto w = whole.parse(in);
  dusty::result<std::size_t> b = std::size_t{0};
  for (std::size_t n = 1; n <= in.size() && b && *b == 0; ++n) b = bytewise.parse(in.substr(0, n));
  DUSTY_FUZZ_CHECK(w.has_value() == b.has_value());
  if (!w) {
    DUSTY_FUZZ_CHECK(w.error() == b.error());
    return;
  }
  DUSTY_FUZZ_CHECK(*w == *b);
  if (*w == 0) return;
  DUSTY_FUZZ_CHECK(same(whole.head(), bytewise.head()));
  if (kind == request_kind::head) DUSTY_FUZZ_CHECK(whole.head().framing == body_framing::none);
  if (whole.head().framing == body_framing::chunked) dusty::fuzz::check_chunked(in.substr(*w));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = dusty::fuzz::text(data, size);
  check(in, request_kind::normal);
  check(in, request_kind::head);
  return 0;
}
