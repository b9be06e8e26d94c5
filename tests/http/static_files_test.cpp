// http::static_files: answers through http::testing (inside a runtime: the handler reads
// small files with reactor::read_at), then over real connections on both backends (file
// bodies go out by sendfile or splice).
#include <dusty/http/static_files.hpp>
#include <dusty/http/testing.hpp>

#include "server_support.hpp"
#include "support/support.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace http = dusty::http;
namespace ht = dusty::http::testing;
using namespace std::chrono_literals;

namespace {

std::string pattern(std::size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  std::mt19937 rng(seed);
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// A small site: files of several sizes, a precompressed sibling, directories with and
// without index, a dotfile, symlinks in and out, a FIFO.
struct site {
  dusty::test::temp_dir dir;
  std::string big = pattern(1 << 20);
  site() {
    std::filesystem::create_directories(dir.path("www/docs"));
    std::filesystem::create_directories(dir.path("www/empty"));
    dir.write("www/index.html", "<h1>home</h1>");
    dir.write("www/docs/index.html", "<h1>docs</h1>");
    dir.write("www/zero.txt", "");
    dir.write("www/one.txt", "1");
    dir.write("www/big.bin", big);
    dir.write("www/style.css", "body { color: red }");
    dir.write("www/style.css.gz", "pretend-gzip");
    dir.write("www/.env", "SECRET=1");
    dir.write("secret.txt", "outside");
    std::filesystem::create_symlink("../secret.txt", dir.path("www/out"));
    std::filesystem::create_symlink("one.txt", dir.path("www/in"));
    ::mkfifo(dir.path("www/fifo").c_str(), 0600);
  }
  std::string root() const { return dir.path("www"); }
};

// Calls `h` for the suffix `rest` inside a runtime (the handler needs a fiber).
template <class Build>
ht::captured_response get(const http::handler& h, std::string_view rest, Build build) {
  std::optional<ht::captured_response> out;
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [&] {
    auto b = ht::request_builder().path("/" + std::string(rest)).glob(rest);
    build(b);
    out = b.call(h);
  });
  return std::move(*out);
}
ht::captured_response get(const http::handler& h, std::string_view rest) {
  return get(h, rest, [](ht::request_builder&) {});
}

}  // namespace

TEST(StaticFiles, ServesFilesWithTypeValidatorsAndLength) {
  site s;
  auto h = http::static_files(s.root());
  auto r = get(h, "style.css");
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.body(), "body { color: red }");
  EXPECT_EQ(r.header("Content-Type"), "text/css; charset=utf-8");
  ASSERT_TRUE(r.header("ETag"));
  EXPECT_TRUE(r.header("ETag")->starts_with("\""));
  EXPECT_TRUE(r.header("Last-Modified"));
  EXPECT_EQ(r.header("Accept-Ranges"), "bytes");
  EXPECT_EQ(r.header("Vary"), "Accept-Encoding");  // a .gz sibling exists
  EXPECT_EQ(get(h, "zero.txt").body(), "");
  EXPECT_EQ(get(h, "big.bin").body(), s.big);  // big enough to be a file_range
}

TEST(StaticFiles, DirectoriesIndexAndListing) {
  site s;
  auto h = http::static_files(s.root());
  EXPECT_EQ(get(h, "").body(), "<h1>home</h1>");
  auto moved = get(h, "docs", [](auto& b) { b.path("/docs?x=1").glob("docs"); });
  EXPECT_EQ(moved.status(), 301);
  EXPECT_EQ(moved.header("Location"), "/docs/?x=1");
  EXPECT_EQ(get(h, "docs/", [](auto& b) { b.path("/docs/").glob("docs/"); }).body(), "<h1>docs</h1>");
  EXPECT_EQ(get(h, "empty/", [](auto& b) { b.path("/empty/").glob("empty/"); }).status(), 403);
  auto listed = get(http::static_files(s.root(), {.directory_listing = true}), "empty/",
                    [](auto& b) { b.path("/empty/").glob("empty/"); });
  EXPECT_EQ(listed.status(), 200);
  EXPECT_NE(listed.body().find("Index of /empty/"), std::string::npos);
  // "file/" names a directory that is not there; the router hands "one.txt" as the glob.
  EXPECT_EQ(get(h, "one.txt/", [](auto& b) { b.path("/one.txt/").glob("one.txt/"); }).status(), 404);
  EXPECT_EQ(get(h, "one.txt", [](auto& b) { b.path("/one.txt/").glob("one.txt"); }).status(), 404);
}

TEST(StaticFiles, RefusesWhatMustNotBeServed) {
  site s;
  auto h = http::static_files(s.root());
  EXPECT_EQ(get(h, "nope").status(), 404);
  EXPECT_EQ(get(h, ".env").status(), 404);
  EXPECT_EQ(get(h, "%2e%2e/secret.txt").status(), 400);
  EXPECT_EQ(get(h, "out").status(), 403);   // a symlink out of the root
  EXPECT_EQ(get(h, "fifo").status(), 403);  // never opened for reading, never blocks
  EXPECT_EQ(get(h, "in").body(), "1");      // a symlink inside is followed by default
  EXPECT_EQ(get(http::static_files(s.root(), {.follow_symlinks = false}), "in").status(), 403);
  EXPECT_EQ(get(http::static_files(s.root(), {.hidden_files = true}), ".env").body(), "SECRET=1");
  EXPECT_THROW(http::static_files(s.dir.path("missing")), std::system_error);
  EXPECT_THROW(http::static_files(s.dir.path("www/one.txt")), std::system_error);
}

TEST(StaticFiles, ConditionalRequests) {
  site s;
  auto h = http::static_files(s.root(), {.cache_control = "public, max-age=60"});
  auto first = get(h, "one.txt");
  std::string etag(*first.header("ETag"));
  std::string modified(*first.header("Last-Modified"));
  EXPECT_EQ(first.header("Cache-Control"), "public, max-age=60");
  auto not_modified = get(h, "one.txt", [&](auto& b) { b.header("If-None-Match", etag); });
  EXPECT_EQ(not_modified.status(), 304);
  EXPECT_EQ(not_modified.body(), "");
  EXPECT_EQ(not_modified.header("Cache-Control"), "public, max-age=60");
  EXPECT_EQ(get(h, "one.txt", [&](auto& b) { b.header("If-Modified-Since", modified); }).status(), 304);
  EXPECT_EQ(get(h, "one.txt", [&](auto& b) { b.header("If-Match", "\"other\""); }).status(), 412);
  EXPECT_EQ(get(h, "one.txt", [&](auto& b) { b.header("If-None-Match", "\"other\""); }).status(), 200);
}

TEST(StaticFiles, RangesFromMemoryAndFromTheFile) {
  site s;
  auto h = http::static_files(s.root());
  auto part = get(h, "big.bin", [](auto& b) { b.header("Range", "bytes=1000-1999"); });
  EXPECT_EQ(part.status(), 206);
  EXPECT_EQ(part.body(), s.big.substr(1000, 1000));
  EXPECT_EQ(part.header("Content-Range"), "bytes 1000-1999/1048576");
  auto small = get(h, "style.css", [](auto& b) { b.header("Range", "bytes=-3"); });
  EXPECT_EQ(small.status(), 206);
  EXPECT_EQ(small.body(), "d }");
  EXPECT_FALSE(small.header("Content-Encoding"));  // ranges address the identity bytes
  EXPECT_EQ(get(h, "one.txt", [](auto& b) { b.header("Range", "bytes=5-"); }).status(), 416);
  std::string etag(*get(h, "big.bin").header("ETag"));
  auto stale = get(h, "big.bin", [](auto& b) { b.header("Range", "bytes=0-9").header("If-Range", "\"old\""); });
  EXPECT_EQ(stale.status(), 200);
  auto fresh = get(h, "big.bin", [&](auto& b) { b.header("Range", "bytes=0-9").header("If-Range", etag); });
  EXPECT_EQ(fresh.status(), 206);
}

TEST(StaticFiles, PrecompressedSiblingForClientsThatAcceptIt) {
  site s;
  s.dir.write("www/style.css.br", "pretend-brotli");
  auto h = http::static_files(s.root());
  auto gz = get(h, "style.css", [](auto& b) { b.header("Accept-Encoding", "gzip"); });
  EXPECT_EQ(gz.body(), "pretend-gzip");
  EXPECT_EQ(gz.header("Content-Encoding"), "gzip");
  EXPECT_EQ(gz.header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(gz.header("Vary"), "Accept-Encoding");
  auto br = get(h, "style.css", [](auto& b) { b.header("Accept-Encoding", "gzip, br"); });
  EXPECT_EQ(br.body(), "pretend-brotli");
  EXPECT_EQ(br.header("Content-Encoding"), "br");
  EXPECT_NE(br.header("ETag"), gz.header("ETag"));
  auto refused = get(h, "style.css", [](auto& b) { b.header("Accept-Encoding", "br;q=0, gzip;q=0"); });
  EXPECT_EQ(refused.body(), "body { color: red }");
  EXPECT_EQ(get(h, "style.css").body(), "body { color: red }");  // no Accept-Encoding: identity
  auto off = get(http::static_files(s.root(), {.precompressed = false}), "style.css",
                 [](auto& b) { b.header("Accept-Encoding", "gzip"); });
  EXPECT_EQ(off.body(), "body { color: red }");
}

TEST(StaticFiles, ADeployShowsAfterRevalidation) {
  site s;
  auto h = http::static_files(s.root(), {.revalidate_after = std::chrono::milliseconds(0)});
  std::optional<ht::captured_response> before, after;
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [&] {
    before = ht::request_builder().path("/one.txt").glob("one.txt").call(h);
    // A deploy: a new file renamed over the old one (same size, so only the inode tells).
    s.dir.write("www/one.tmp", "2");
    std::filesystem::rename(s.dir.path("www/one.tmp"), s.dir.path("www/one.txt"));
    after = ht::request_builder().path("/one.txt").glob("one.txt").call(h);
  });
  EXPECT_EQ(before->body(), "1");
  EXPECT_EQ(after->body(), "2");
}

// ---- over real connections ---------------------------------------------------------

namespace {

using http::server_test::live_server;
using http::server_test::raw_client;
using http::server_test::run_program;

// A site with the sizes the issue names (0, 1, 4 KiB, 1 MiB, 100 MiB sparse), on a server
// with static_files at /files/*.
struct served_site {
  site files;
  std::string sparse_path;
  live_server<> server;
  served_site()
      : server([this](http::server<>& srv) { srv.get("/files/*", http::static_files(files.root())); }) {
    files.dir.write("www/4k.bin", pattern(4096, 7));
    // 100 MiB of holes with a few written blocks: the page cache serves zeros for holes.
    sparse_path = files.dir.path("www/sparse.bin");
    std::ofstream f(sparse_path, std::ios::binary);
    for (std::uint64_t at : {0ull, 33ull << 20, (100ull << 20) - 4096}) {
      f.seekp(static_cast<std::streamoff>(at));
      f << pattern(4096, static_cast<unsigned>(at));
    }
    f.close();
    std::filesystem::resize_file(sparse_path, 100 << 20);
  }
  std::string path(std::string_view leaf) const { return files.dir.path("www/" + std::string(leaf)); }
};

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(StaticFilesWire, CurlGetsEveryFileByteForByte) {
  served_site s;
  dusty::test::temp_dir out;
  for (const char* name : {"zero.txt", "one.txt", "4k.bin", "big.bin", "sparse.bin", "style.css"}) {
    auto r = run_program({"/usr/bin/curl", "-sS", "-o", out.path(name), "-w", "%{http_code} %{size_download}",
                          s.server.url("/files/" + std::string(name))},
                         60s);
    ASSERT_EQ(r.status, 0) << name << ": " << r.err;
    auto expected = slurp(s.path(name));
    EXPECT_EQ(r.out, "200 " + std::to_string(expected.size())) << name;
    EXPECT_TRUE(slurp(out.path(name)) == expected) << name << " differs";
  }
}

TEST(StaticFilesWire, HeadAndPipelinedRangesOnOneConnection) {
  served_site s;
  auto c = s.server.connect();
  c.send("HEAD /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
  auto head = c.read_response(true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("Content-Length"), "1048576");
  EXPECT_EQ(head->body, "");
  // 200 range requests in one write: each answer is read back and checked.
  std::mt19937 rng(42);
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  std::string batch;
  for (int i = 0; i < 200; ++i) {
    std::size_t first = rng() % s.files.big.size();
    std::size_t len = 1 + rng() % 100'000;
    std::size_t last = std::min(first + len, s.files.big.size()) - 1;
    ranges.emplace_back(first, last);
    batch += "GET /files/big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=" + std::to_string(first) + "-" +
             std::to_string(last) + "\r\n\r\n";
  }
  c.send(batch);
  for (auto [first, last] : ranges) {
    auto r = c.read_response();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 206u);
    ASSERT_TRUE(r->body == s.files.big.substr(first, last - first + 1)) << first << "-" << last;
  }
}

TEST(StaticFilesWire, AFileThatShrinksWhileSentClosesTheConnection) {
  served_site s;
  std::string name = "shrinking.bin";
  s.files.dir.write("www/" + name, pattern(64 << 20, 9));
  auto c = s.server.connect(64 * 1024);  // a small receive buffer: the server stalls early
  c.send("GET /files/" + name + " HTTP/1.1\r\nHost: x\r\n\r\n");
  // Wait for the head, then cut the file to 1 MiB while most of it is still unsent.
  ASSERT_EQ(c.fill(std::chrono::steady_clock::now() + 10s), raw_client::fill_result::data);
  ASSERT_EQ(::truncate(s.path(name).c_str(), 1 << 20), 0);
  std::string rest;
  ASSERT_TRUE(c.wait_closed(30s, &rest)) << "the connection must close, not hang";
  auto header_end = rest.find("\r\n\r\n");
  ASSERT_NE(header_end, std::string::npos);
  EXPECT_NE(rest.find("Content-Length: 67108864"), std::string::npos);
  EXPECT_LT(rest.size() - header_end - 4, std::size_t{64} << 20);  // fewer bytes than announced, then the close
}
