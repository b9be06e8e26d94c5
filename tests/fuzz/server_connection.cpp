// A whole HTTP/1 server connection: h1::serve_connection over an in-memory stream, the
// request parser, router, middleware (CORS, compression), handlers and response writer
// together. Input: what the client sends; each 0xFF byte ends one read there (and is
// dropped), so the fuzzer chooses where the reads split. Each input runs on a fresh
// one-shard runtime, as serving needs a shard (timers, the date cache).
//
// Property: besides no crash, leak or hang, everything the server wrote is a sequence of
// well-formed responses (checked as the client reads them; for HEAD requests, whose
// answers carry no body, only the first response), the last one possibly cut short.
#include <dusty/core/runtime.hpp>
#include <dusty/http/detail/server_state.hpp>
#include <dusty/http/h1/response_parser.hpp>
#include <dusty/http/h1/server_connection.hpp>
#include <dusty/http/middleware/compress.hpp>
#include <dusty/http/middleware/cors.hpp>
#include <dusty/http/request.hpp>
#include <dusty/http/response.hpp>
#include <dusty/http/server.hpp>
#include <dusty/http/server_stats.hpp>

#include "h1_support.hpp"
#include "net/script_stream.hpp"

#include <deque>
#include <memory>
#include <string>

using namespace dusty;
using namespace dusty::http;

namespace {

// route_scope's constructor is for servers: this one routes into a bare server_state.
struct route_table : route_scope<void> {
  explicit route_table(http::detail::dispatcher& d) : route_scope(d, "") {}
};

std::unique_ptr<http::detail::server_state> make_state() {
  server_config config;
  config.limits.max_body_size = 4096;  // small limits, so the fuzzer reaches them
  config.limits.max_head_size = 2048;
  config.limits.max_drain = 1024;
  auto state = std::make_unique<http::detail::server_state>(config);
  state->routes.use(cors());
  state->routes.use(compress({.min_size = 16}));
  route_table r(state->routes);
  r.get("/", [](request&, response& res) { res.body = "hello, world"; });
  r.post("/echo", [](request& req, response& res) { res.body = req.body(); });
  r.get("/users/:id", [](request& req, response& res) { res.json({{"id", req.param("id")}}); });
  r.get("/query", [](request& req, response& res) { res.body = req.query("q").value_or("none"); });
  r.put("/stream", [](request& req, response& res) {
    res.chunk("first,");
    res.chunk(req.body());
  });
  r.get("/fail", [](request&, response&) { throw std::runtime_error("handler failed"); });
  return state;
}

// Reads `written` as a client would: response after response, bodies by their framing.
void check_responses(std::string_view written, bool only_first) {
  h1::response_parser parser;
  while (!written.empty()) {
    auto head = parser.parse(written);
    DUSTY_FUZZ_CHECK(head.has_value() && *head != 0);
    auto framing = parser.head().framing;
    written.remove_prefix(*head);
    if (only_first) return;
    if (framing == h1::body_framing::until_close) return;
    if (framing != h1::body_framing::none) {
      auto d = h1::body_decoder::create(framing, parser.head().content_length, {.max_body_size = 1 << 20});
      DUSTY_FUZZ_CHECK(d.has_value());
      auto body = fuzz::decode_body(*d, written, written.size());
      // A streamed answer whose handler failed midway is cut off (the connection then
      // closes): the way to tell the client after its head went out.
      if (!body.done) {
        DUSTY_FUZZ_CHECK(!body.error && framing == h1::body_framing::chunked);
        return;
      }
      written.remove_prefix(body.consumed);
    }
    parser.reset();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto state = make_state();
  std::deque<std::string> reads;
  std::string sent;
  for (auto rest = fuzz::text(data, size); !rest.empty();) {
    auto read = rest.substr(0, rest.find('\xff'));
    rest.remove_prefix(std::min(rest.size(), read.size() + 1));
    if (!read.empty()) reads.emplace_back(read);  // a stream never reads 0 bytes (eof instead)
    sent += read;
  }
  net::testing::script_stream stream(std::move(reads));

  runtime_config config;
  config.shards = 1;
  config.backend = backend_kind::epoll;  // cheaper to set up per input than a ring
  config.pin_threads = false;
  config.handle_signals = false;
  config.cached_stacks = 4;
  runtime rt(config);
  rt.run([&] {
    http::detail::connection_control control;
    server_stats stats;
    h1::serve_connection(*state, stream, control, stats, nullptr);
  });
  check_responses(stream.written, sent.find("HEAD") != std::string::npos);
  return 0;
}
