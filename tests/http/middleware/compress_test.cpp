#include <dusty/http/middleware/compress.hpp>

#include <dusty/http/codec/cookie.hpp>
#include <dusty/http/testing.hpp>

#include "http/server_support.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace {

namespace http = dusty::http;
namespace ht = dusty::http::testing;
using namespace dusty::http::server_test;
using http::content_coding;

std::string text(std::size_t n) {
  std::string s;
  for (int i = 0; s.size() < n; ++i) s += "line " + std::to_string(i) + ": the quick brown fox jumps over the lazy dog\n";
  s.resize(n);
  return s;
}

std::string noise(std::size_t n) {
  std::mt19937 rng(42);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::string decode(content_coding c, std::string_view wire) {
  http::decompressor d(c);
  std::string out;
  auto r = d.write(wire, out);
  EXPECT_TRUE(r) << r.error().message();
  EXPECT_TRUE(d.finish()) << "the compressed stream is not complete";
  return out;
}

std::string chunk_piece(int i) { return "{\"piece\": " + std::to_string(i) + ", \"pad\": \"" + std::string(i * 10, 'x') + "\"}\n"; }

std::vector<std::string> chunk_pieces() {
  std::vector<std::string> v;
  for (int i = 0; i < 20; ++i) v.push_back(chunk_piece(i));
  return v;
}

const std::string big = text(20000);
const std::string big_json = [] {
  nlohmann::json j = nlohmann::json::array();
  for (int i = 0; i < 300; ++i) j.push_back({{"id", i}, {"name", "item " + std::to_string(i)}, {"ok", i % 2 == 0}});
  return j.dump();
}();

// The routes of both the socketless and the real server.
template <class S>
void install(S& srv, http::compress_config config = {}) {
  srv.use(http::compress(std::move(config)));
  srv.get("/big", [](http::request&, http::response& res) {
    res.content_type("text/plain; charset=utf-8");
    res.body = big;
  });
  srv.get("/json", [](http::request&, http::response& res) { res.json(nlohmann::json::parse(big_json)); });
  srv.get("/small", [](http::request&, http::response& res) {
    res.content_type("text/plain");
    res.body = "tiny";
  });
  srv.get("/png", [](http::request&, http::response& res) {
    res.content_type("image/png");
    res.body = big;
  });
  srv.get("/noise", [](http::request&, http::response& res) {
    res.content_type("text/plain");
    res.body = noise(5000);
  });
  srv.get("/encoded", [](http::request&, http::response& res) {
    res.content_type("text/plain");
    res.header("Content-Encoding", "br");
    res.body = big;
  });
  srv.get("/notmod", [](http::request&, http::response& res) {
    res.status = 304;
    res.content_type("text/plain");
    res.header("ETag", "\"v1\"");
  });
  srv.get("/nocontent", [](http::request&, http::response& res) {
    res.status = 204;
    res.content_type("text/plain");
  });
  srv.get("/partial", [](http::request&, http::response& res) {
    res.status = 206;
    res.content_type("text/plain");
    res.header("Content-Range", "bytes 0-1999/20000");
    res.body = big.substr(0, 2000);
  });
  srv.get("/etag", [](http::request& req, http::response& res) {
    res.content_type("text/html");
    res.header("ETag", req.query("weak") ? "W/\"abc\"" : "\"abc\"");
    res.body = big;
  });
  srv.get("/vary", [](http::request& req, http::response& res) {
    res.content_type("text/plain");
    res.header("Vary", req.query("v").value_or("Origin"));
    res.body = big;
  });
  srv.get("/writer", [](http::request& req, http::response& res) {
    res.content_type("text/plain");
    auto n = std::stoul(std::string(req.query("n").value_or("3000")));
    auto& w = res.writer();
    for (std::size_t i = 0; i < n; i += 100) w.write(std::string_view(big).substr(i % 10000, std::min<std::size_t>(100, n - i)));
  });
  srv.get("/chunks", [](http::request&, http::response& res) {
    res.content_type("application/json");
    for (int i = 0; i < 20; ++i) res.chunk(chunk_piece(i));
  });
  srv.get("/events", [](http::request&, http::response& res) {
    auto ev = res.start_event_stream();
    for (int i = 0; i < 3; ++i) ev.send({.data = "tick " + std::to_string(i), .event = "tick"});
  });
  srv.get("/throws", [](http::request&, http::response& res) {
    res.content_type("text/plain");
    res.body = big;
    throw std::runtime_error("boom");
  });
}

// Every streamed piece, fed to one decompressor in order, yields exactly the plain piece
// the handler sent: the client can use each piece when it arrives.
void expect_pieces_decode(content_coding c, const std::vector<std::string>& wire, const std::vector<std::string>& plain) {
  http::decompressor d(c);
  ASSERT_GE(wire.size(), plain.size());
  for (std::size_t i = 0; i < wire.size(); ++i) {
    std::string out;
    ASSERT_TRUE(d.write(wire[i], out)) << i;
    if (i < plain.size()) EXPECT_EQ(out, plain[i]) << "piece " << i;
    else EXPECT_EQ(out, "") << "piece " << i;  // the end of the stream
  }
  EXPECT_TRUE(d.finish());
}

class compress_mw : public ::testing::Test {
 protected:
  ht::captured_response get(std::string_view path, std::string_view accept = "gzip, deflate") {
    auto b = ht::request_builder().path(path);
    if (!accept.empty()) b.header("Accept-Encoding", accept);
    return b.call(srv_);
  }
  ht::server<> srv_;
  void SetUp() override { install(srv_); }
};

TEST_F(compress_mw, buffered_gzip) {
  auto r = get("/big");
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.header("Content-Encoding"), "gzip");
  EXPECT_EQ(r.header_values("Vary"), std::vector<std::string_view>{"Accept-Encoding"});
  EXPECT_LT(r.body().size(), big.size() / 5);
  EXPECT_EQ(decode(content_coding::gzip, r.body()), big);
}

TEST_F(compress_mw, negotiation) {
  struct row {
    std::string_view accept;
    std::optional<std::string_view> coding;
  };
  const row rows[] = {
      {"", std::nullopt},
      {"gzip", "gzip"},
      {"deflate", "deflate"},
      {"deflate, gzip", "gzip"},  // the server's order breaks the tie
      {"gzip;q=0.5, deflate", "deflate"},
      {"*", "gzip"},
      {"br", std::nullopt},
      {"gzip;q=0, deflate;q=0", std::nullopt},
      {"identity", std::nullopt},
      {"x-gzip", "gzip"},
  };
  for (const auto& row : rows) {
    auto r = get("/json", row.accept);
    EXPECT_EQ(r.header("Content-Encoding"), row.coding) << row.accept;
    EXPECT_EQ(r.header("Vary"), "Accept-Encoding") << row.accept;
    auto c = row.coding ? *http::parse_content_coding(*row.coding) : content_coding::identity;
    EXPECT_EQ(c == content_coding::identity ? std::string(r.body()) : decode(c, r.body()), big_json) << row.accept;
  }
}

TEST_F(compress_mw, left_alone) {
  auto small = get("/small");
  EXPECT_EQ(small.header("Content-Encoding"), std::nullopt);
  EXPECT_EQ(small.header("Vary"), "Accept-Encoding");  // eligible by type, too small
  EXPECT_EQ(small.body(), "tiny");

  auto png = get("/png");
  EXPECT_EQ(png.header("Content-Encoding"), std::nullopt);
  EXPECT_EQ(png.header("Vary"), std::nullopt);
  EXPECT_EQ(png.body(), big);

  auto noise_r = get("/noise");  // compressing would make it bigger
  EXPECT_EQ(noise_r.header("Content-Encoding"), std::nullopt);
  EXPECT_EQ(noise_r.header("Vary"), "Accept-Encoding");
  EXPECT_EQ(noise_r.body(), noise(5000));

  auto enc = get("/encoded");
  EXPECT_EQ(enc.header_values("Content-Encoding"), std::vector<std::string_view>{"br"});
  EXPECT_EQ(enc.header("Vary"), std::nullopt);
  EXPECT_EQ(enc.body(), big);

  for (auto path : {"/notmod", "/nocontent", "/partial"}) {
    auto r = get(path);
    EXPECT_EQ(r.header("Content-Encoding"), std::nullopt) << path;
    EXPECT_EQ(r.header("Vary"), std::nullopt) << path;
  }
  EXPECT_EQ(get("/notmod").header("ETag"), "\"v1\"");
  EXPECT_EQ(get("/partial").body(), big.substr(0, 2000));
}

TEST_F(compress_mw, head_gets_the_get_head) {
  auto r = ht::request_builder().method(http::method::head).path("/big").header("Accept-Encoding", "gzip").call(srv_);
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.header("Content-Encoding"), "gzip");
  EXPECT_EQ(r.header("Vary"), "Accept-Encoding");
  // http::testing keeps a HEAD body; the server computes Content-Length from it.
  EXPECT_EQ(r.body().size(), get("/big", "gzip").body().size());
}

TEST_F(compress_mw, etags_become_weak) {
  auto strong = get("/etag");
  EXPECT_EQ(strong.header_values("ETag"), std::vector<std::string_view>{"W/\"abc\""});
  auto weak = get("/etag?weak=1");
  EXPECT_EQ(weak.header_values("ETag"), std::vector<std::string_view>{"W/\"abc\""});
  auto plain = get("/etag", "");
  EXPECT_EQ(plain.header("ETag"), "\"abc\"");  // not compressed: the tag stays strong
}

TEST_F(compress_mw, vary_is_merged) {
  auto r = get("/vary?v=Origin");
  EXPECT_EQ(r.header_values("Vary"), (std::vector<std::string_view>{"Origin", "Accept-Encoding"}));
  r = get("/vary?v=Origin,%20accept-encoding");
  EXPECT_EQ(r.header_values("Vary"), std::vector<std::string_view>{"Origin, accept-encoding"});
  r = get("/vary?v=*");
  EXPECT_EQ(r.header_values("Vary"), std::vector<std::string_view>{"*"});
  EXPECT_EQ(r.header("Content-Encoding"), "gzip");
}

TEST_F(compress_mw, buffered_writer) {
  auto r = get("/writer?n=3000");  // below the writer buffer: one buffered body
  EXPECT_FALSE(r.streamed());
  EXPECT_EQ(r.header("Content-Encoding"), "gzip");
  EXPECT_EQ(decode(content_coding::gzip, r.body()), big.substr(0, 3000));
}

TEST_F(compress_mw, streamed_writer_with_leftover) {
  // Past the writer buffer (64 KiB by default): streamed, with a remainder in the writer
  // when the handler returns, which must be compressed too.
  std::string want;
  for (std::size_t i = 0; i < 100050; i += 100) want += big.substr(i % 10000, std::min<std::size_t>(100, 100050 - i));
  for (auto accept : {"gzip", "deflate"}) {
    auto r = get("/writer?n=100050", accept);
    ASSERT_TRUE(r.streamed());
    EXPECT_EQ(r.header("Content-Encoding"), accept);
    EXPECT_EQ(decode(*http::parse_content_coding(accept), r.body()), want) << accept;
  }
  auto plain = get("/writer?n=100050", "");
  EXPECT_EQ(plain.header("Content-Encoding"), std::nullopt);
  EXPECT_EQ(plain.header("Vary"), "Accept-Encoding");
  EXPECT_EQ(plain.body(), want);
}

TEST_F(compress_mw, streamed_chunks_decode_piece_by_piece) {
  std::vector<std::string> plain = chunk_pieces();
  for (auto c : {content_coding::gzip, content_coding::deflate}) {
    auto r = get("/chunks", http::to_string(c));
    ASSERT_TRUE(r.streamed());
    EXPECT_EQ(r.header("Content-Encoding"), http::to_string(c));
    EXPECT_EQ(r.header("Vary"), "Accept-Encoding");
    expect_pieces_decode(c, r.pieces(), plain);
  }
  auto none = get("/chunks", "");
  EXPECT_EQ(none.pieces(), plain);
}

TEST_F(compress_mw, events_only_when_asked) {
  auto r = get("/events");
  EXPECT_EQ(r.header("Content-Encoding"), std::nullopt);
  EXPECT_EQ(r.header("Vary"), std::nullopt);
  ASSERT_EQ(r.events().size(), 3u);

  ht::server<> srv;
  install(srv, {.events = true});
  auto z = ht::request_builder().path("/events").header("Accept-Encoding", "gzip").call(srv);
  EXPECT_EQ(z.header("Content-Encoding"), "gzip");
  std::string all = decode(content_coding::gzip, z.body());
  EXPECT_EQ(all, "event: tick\ndata: tick 0\n\nevent: tick\ndata: tick 1\n\nevent: tick\ndata: tick 2\n\n");
}

TEST_F(compress_mw, streams_off) {
  ht::server<> srv;
  install(srv, {.streams = false});
  auto r = ht::request_builder().path("/chunks").header("Accept-Encoding", "gzip").call(srv);
  EXPECT_EQ(r.header("Content-Encoding"), std::nullopt);
  EXPECT_EQ(r.pieces().size(), 20u);
  auto b = ht::request_builder().path("/big").header("Accept-Encoding", "gzip").call(srv);
  EXPECT_EQ(b.header("Content-Encoding"), "gzip");
}

TEST_F(compress_mw, config) {
  ht::server<> srv;
  install(srv, {.codings = {content_coding::deflate}, .level = 1, .min_size = 1, .types = {"TEXT/PLAIN"}});
  auto small = ht::request_builder().path("/small").header("Accept-Encoding", "gzip, deflate").call(srv);
  EXPECT_EQ(small.header("Content-Encoding"), std::nullopt);  // "tiny" does not shrink
  auto r = ht::request_builder().path("/big").header("Accept-Encoding", "gzip, deflate").call(srv);
  EXPECT_EQ(r.header("Content-Encoding"), "deflate");
  EXPECT_EQ(decode(content_coding::deflate, r.body()), big);
  auto html = ht::request_builder().path("/etag").header("Accept-Encoding", "deflate").call(srv);
  EXPECT_EQ(html.header("Content-Encoding"), std::nullopt);  // text/html is not listed
  auto gz_only = ht::request_builder().path("/big").header("Accept-Encoding", "gzip").call(srv);
  EXPECT_EQ(gz_only.header("Content-Encoding"), std::nullopt);

  EXPECT_THROW(http::compress({.level = 0}), std::invalid_argument);
  EXPECT_THROW(http::compress({.level = 10}), std::invalid_argument);
  EXPECT_THROW(http::compress({.types = {"text"}}), std::invalid_argument);
  EXPECT_THROW(http::compress({.types = {""}}), std::invalid_argument);
  EXPECT_THROW(http::compress({.types = {"text/plain; charset=x"}}), std::invalid_argument);
  EXPECT_THROW(http::compress({.types = {"/x"}}), std::invalid_argument);
}

TEST_F(compress_mw, errors_pass_through) {
  auto r = get("/throws");
  EXPECT_EQ(r.status(), 500);
  EXPECT_TRUE(r.exception());
  EXPECT_EQ(r.header("Content-Encoding"), std::nullopt);
  // A later request still works (the response's sink was put back).
  EXPECT_EQ(decode(content_coding::gzip, get("/big").body()), big);
}

TEST(request_response_cookies, conveniences) {
  auto r = ht::request_builder()
               .header("Cookie", "a=1; sid=\"xyz\"")
               .header("Cookie", "late=2")
               .call([](http::request& req, http::response& res) {
                 EXPECT_EQ(req.cookie("a"), "1");
                 EXPECT_EQ(req.cookie("sid"), "xyz");
                 EXPECT_EQ(req.cookie("late"), "2");
                 EXPECT_EQ(req.cookie("none"), std::nullopt);
                 res.set_cookie({.name = "x", .value = "1", .path = "/"});
                 res.set_cookie({.name = "y", .value = "2", .http_only = true});
                 EXPECT_THROW(res.set_cookie({.name = "bad name", .value = "1"}), std::invalid_argument);
                 res.header("X", "1");
                 EXPECT_EQ(res.remove_header("x"), 1u);
                 EXPECT_EQ(res.remove_header("x"), 0u);
               });
  EXPECT_EQ(r.header_values("Set-Cookie"), (std::vector<std::string_view>{"x=1; Path=/", "y=2; HttpOnly"}));
  EXPECT_EQ(r.header("X"), std::nullopt);
  auto none = ht::request_builder().call([](http::request& req, http::response&) { EXPECT_EQ(req.cookie("a"), std::nullopt); });
  EXPECT_EQ(none.status(), 200);
}

// ---- through a real server, decoded by curl and Python -------------------------------

class compress_live : public ::testing::Test {
 protected:
  program_result run(std::vector<std::string> args) {
    auto r = run_program(args);
    EXPECT_EQ(r.status, 0) << args[0] << " failed: " << r.err << r.out;
    return r;
  }
  program_result curl(std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/curl", "-sS", "--max-time", "20"});
    return run(args);
  }
  program_result python(const std::string& script) {
    return run({python_path(), "-c", script, std::to_string(srv_.port())});
  }
  live_server<> srv_{[](http::server<>& s) { install(s); }, local_config(), two_shards()};
  temp_dir dir_;
};

TEST_F(compress_live, curl_compressed) {
  for (auto accept : {"gzip", "deflate"}) {
    auto r = curl({"--compressed", "-H", std::string("Accept-Encoding: ") + accept, "-D", dir_.path("h"),
                   srv_.url("/big")});
    EXPECT_EQ(r.out, big) << accept;
    auto h = run({"/bin/cat", dir_.path("h")}).out;
    EXPECT_NE(lower(h).find(std::string("content-encoding: ") + accept), std::string::npos) << h;
    EXPECT_NE(lower(h).find("vary: accept-encoding"), std::string::npos) << h;
  }
  EXPECT_EQ(curl({"--compressed", srv_.url("/json")}).out, big_json);
  std::string all;
  for (const auto& p : chunk_pieces()) all += p;
  EXPECT_EQ(curl({"--compressed", srv_.url("/chunks")}).out, all);
  EXPECT_EQ(curl({srv_.url("/big")}).out, big);  // no Accept-Encoding: identity
}

TEST_F(compress_live, python_decodes_the_bytes) {
  // requests sends "Accept-Encoding: gzip, deflate" and decodes; zlib checks the raw bytes.
  auto r = python(R"(
import sys, zlib, requests
base = 'http://127.0.0.1:' + sys.argv[1]
r = requests.get(base + '/big')
assert r.headers['content-encoding'] == 'gzip', r.headers
assert r.headers['vary'] == 'Accept-Encoding', r.headers
big = r.content
raw = requests.get(base + '/big', headers={'Accept-Encoding': 'gzip'}, stream=True).raw.read(decode_content=False)
assert zlib.decompress(raw, 31) == big
raw = requests.get(base + '/big', headers={'Accept-Encoding': 'deflate'}, stream=True)
assert raw.headers['content-encoding'] == 'deflate'
assert zlib.decompress(raw.raw.read(decode_content=False)) == big
s = requests.get(base + '/small')
assert 'content-encoding' not in s.headers and s.text == 'tiny'
p = requests.get(base + '/png')
assert 'content-encoding' not in p.headers and 'vary' not in p.headers and p.content == big
e = requests.get(base + '/encoded', headers={'Accept-Encoding': 'br'}, stream=True)
assert e.headers['content-encoding'] == 'br' and e.raw.read(decode_content=False) == big
c = requests.get(base + '/chunks', stream=True, headers={'Accept-Encoding': 'gzip'})
assert c.headers['transfer-encoding'] == 'chunked' and c.headers['content-encoding'] == 'gzip'
d = zlib.decompressobj(31)
got = b''
for piece in c.raw.stream(decode_content=False):
    got += d.decompress(piece)
assert d.eof and got.count(b'\n') == 20, got
print(len(big))
)");
  EXPECT_EQ(r.out, std::to_string(big.size()) + "\n");
}

TEST_F(compress_live, wire_framing) {
  auto c = srv_.connect();
  c.send("GET /big HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
  auto get = c.read_response();
  ASSERT_TRUE(get);
  EXPECT_EQ(get->header("Content-Encoding"), "gzip");
  EXPECT_EQ(get->header("Content-Length"), std::to_string(get->body.size()));
  EXPECT_EQ(decode(content_coding::gzip, get->body), big);

  c.send("HEAD /big HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
  auto head = c.read_response(true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("Content-Encoding"), "gzip");
  EXPECT_EQ(head->header("Content-Length"), std::to_string(get->body.size()));
  EXPECT_EQ(head->body, "");

  c.send("GET /notmod HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
  auto nm = c.read_response();
  ASSERT_TRUE(nm);
  EXPECT_EQ(nm->status, 304u);
  EXPECT_EQ(nm->header("Content-Encoding"), std::nullopt);
  EXPECT_EQ(nm->body, "");

  // Streamed: one chunk per piece, each decodable on arrival, then the trailer chunk.
  c.send("GET /chunks HTTP/1.1\r\nHost: x\r\nAccept-Encoding: deflate\r\n\r\n");
  auto st = c.read_response();
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->chunked);
  EXPECT_EQ(st->header("Content-Encoding"), "deflate");
  std::vector<std::string> wire;
  std::size_t at = 0;
  for (auto n : st->chunk_sizes) {
    if (n == 0) continue;
    wire.push_back(st->body.substr(at, n));
    at += n;
  }
  std::vector<std::string> plain = chunk_pieces();
  expect_pieces_decode(content_coding::deflate, wire, plain);

  // The connection is still good for another request.
  c.send("GET /small HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
  auto sm = c.read_response();
  ASSERT_TRUE(sm);
  EXPECT_EQ(sm->body, "tiny");
}

}  // namespace
