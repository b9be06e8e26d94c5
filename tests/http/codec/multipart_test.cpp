#include <dusty/http/codec/multipart.hpp>

#include <dusty/http/testing.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace http = dusty::http;
namespace ht = dusty::http::testing;

namespace {

const std::string body =
    "preamble to ignore\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"field\"\r\n"
    "\r\n"
    "value one\r\n"
    "--XyZ  \r\n"  // transport padding
    "content-disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "line 1\r\n--XyZnot a delimiter\r\nline 3\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=empty\r\n"
    "\r\n"
    "\r\n"
    "--XyZ--\r\n"
    "epilogue to ignore\r\n";

// Feeds `text` in pieces of `step` bytes and records what the parser reports.
struct recorder {
  std::vector<http::multipart_field> parts;
  int ends = 0;
  http::multipart_callbacks callbacks() {
    return {.on_part = [this](const http::multipart_part& p) { parts.push_back({p, {}}); },
            .on_data = [this](std::string_view d) { parts.back().data.append(d); },
            .on_part_end = [this] { ++ends; }};
  }
};

dusty::result<void> feed(http::multipart_parser& p, std::string_view text, std::size_t step, recorder& rec) {
  auto cb = rec.callbacks();
  for (std::size_t i = 0; i < text.size(); i += step)
    if (auto r = p.feed(text.substr(i, step), cb); !r) return r;
  return p.finish();
}

}  // namespace

TEST(multipart, finds_the_boundary) {
  EXPECT_EQ(http::multipart_boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(http::multipart_boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b;c\""), "a b;c");
  EXPECT_EQ(http::multipart_boundary("multipart/mixed; boundary=x"), "x");
  EXPECT_FALSE(http::multipart_boundary("multipart/form-data"));
  EXPECT_FALSE(http::multipart_boundary("multipart/form-data; boundary="));
  EXPECT_FALSE(http::multipart_boundary("multipart/form-data; boundary=\"abc"));
  EXPECT_FALSE(http::multipart_boundary("text/plain; boundary=abc"));
  EXPECT_FALSE(http::multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')));
  EXPECT_TRUE(http::multipart_boundary("multipart/form-data; boundary=" + std::string(70, 'a')));
}

TEST(multipart, parses_a_whole_body) {
  auto parts = http::parse_multipart(body, "XyZ");
  ASSERT_TRUE(parts) << parts.error().message();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].part.name, "field");
  EXPECT_FALSE((*parts)[0].part.filename);
  EXPECT_EQ((*parts)[0].data, "value one");
  EXPECT_EQ((*parts)[1].part.name, "file");
  EXPECT_EQ((*parts)[1].part.filename, "a \"b\".txt");
  EXPECT_EQ((*parts)[1].part.content_type, "text/plain");
  EXPECT_EQ((*parts)[1].part.header("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ((*parts)[1].data, "line 1\r\n--XyZnot a delimiter\r\nline 3");
  EXPECT_EQ((*parts)[2].part.name, "empty");
  EXPECT_EQ((*parts)[2].data, "");
}

TEST(multipart, any_split_of_the_body_gives_the_same_parts) {
  auto whole = http::parse_multipart(body, "XyZ");
  ASSERT_TRUE(whole);
  for (std::size_t step : {1u, 2u, 3u, 5u, 7u, 13u, 64u}) {
    http::multipart_parser p("XyZ");
    recorder rec;
    ASSERT_TRUE(feed(p, body, step, rec)) << step;
    EXPECT_TRUE(p.done());
    EXPECT_EQ(rec.ends, 3);
    ASSERT_EQ(rec.parts.size(), whole->size());
    for (std::size_t i = 0; i < rec.parts.size(); ++i) {
      EXPECT_EQ(rec.parts[i].data, (*whole)[i].data) << "step " << step;
      EXPECT_EQ(rec.parts[i].part.name, (*whole)[i].part.name);
    }
  }
}

TEST(multipart, body_may_start_with_the_delimiter) {
  auto parts = http::parse_multipart("--b\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--b--", "b");
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].data, "x");
}

TEST(multipart, malformed_bodies) {
  auto fails = [](std::string_view text, http::errc e) {
    auto r = http::parse_multipart(text, "b");
    EXPECT_FALSE(r) << text;
    if (!r) {
      EXPECT_EQ(r.error(), e) << text;
    }
  };
  const auto inv = http::errc::invalid_multipart;
  fails("", inv);
  fails("no delimiter at all", inv);
  fails("--b\r\nContent-Disposition: form-data; name=a\r\n\r\nx", inv);                    // not closed
  fails("--b\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--b", inv);             // not closed
  fails("--bX\r\n", inv);                                                                   // boundary prefix
  fails("--b\r\nno colon\r\n\r\nx\r\n--b--", inv);
  fails("--b\r\n: empty name\r\n\r\nx\r\n--b--", inv);
  fails("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", inv);                          // no disposition
  fails("--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--", inv);          // open quote
  fails("--b\r\nContent-Disposition: ; name=a\r\n\r\nx\r\n--b--", inv);
  fails("--b\r\nContent-Disposition: form-data; name=a\r\n folded\r\n\r\nx\r\n--b--", inv);  // obs-fold
  fails("--b\r\nContent-Disposition: form-data; name=a\r\nX: a\x01b\r\n\r\nx\r\n--b--", inv);
  fails("--b\r\nContent-Disposition: form-data\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", inv);
  fails("--b" + std::string(300, ' ') + "\r\n", inv);                                       // endless padding
  http::multipart_parser empty_boundary("");
  EXPECT_FALSE(empty_boundary.feed("--\r\n", {}));
}

TEST(multipart, limits) {
  std::string many;
  for (int i = 0; i < 4; ++i) many += "--b\r\nContent-Disposition: form-data; name=p\r\n\r\nv\r\n";
  many += "--b--";
  auto r = http::parse_multipart(many, "b", {.max_parts = 3});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), http::errc::too_many_parts);
  EXPECT_TRUE(http::parse_multipart(many, "b", {.max_parts = 4}));

  std::string big = "--b\r\nContent-Disposition: form-data; name=p\r\n\r\n" + std::string(1000, 'x') + "\r\n--b--";
  r = http::parse_multipart(big, "b", {.max_part_size = 999});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), http::errc::part_too_large);
  EXPECT_TRUE(http::parse_multipart(big, "b", {.max_part_size = 1000}));

  std::string head = "--b\r\nContent-Disposition: form-data; name=p\r\nX: " + std::string(200, 'h') + "\r\n\r\nv\r\n--b--";
  r = http::parse_multipart(head, "b", {.max_head_size = 100});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), http::errc::part_too_large);
  // An endless head fed in small pieces fails as soon as it passes the limit.
  http::multipart_parser p("b", {.max_head_size = 100});
  ASSERT_TRUE(p.feed("--b\r\nX: ", {}));
  dusty::result<void> res;
  for (int i = 0; i < 100 && res; ++i) res = p.feed("hhhhhhhhhh", {});
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error(), http::errc::part_too_large);
  EXPECT_FALSE(p.feed("more", {}));  // stays failed

  std::string fields = "--b\r\nContent-Disposition: form-data; name=p\r\nA: 1\r\nB: 2\r\n\r\nv\r\n--b--";
  EXPECT_FALSE(http::parse_multipart(fields, "b", {.max_head_fields = 2}));
  EXPECT_TRUE(http::parse_multipart(fields, "b", {.max_head_fields = 3}));
}

TEST(multipart, data_after_the_end_is_ignored) {
  http::multipart_parser p("b");
  ASSERT_TRUE(p.feed("--b--\r\nanything", {}));
  EXPECT_TRUE(p.done());
  EXPECT_TRUE(p.feed("more --b\r\n", {}));
  EXPECT_TRUE(p.finish());
  EXPECT_EQ(p.parts(), 0u);
}

TEST(multipart, hostile_input_never_crashes) {
  // Random bytes drawn from the characters that matter to the parser, in random pieces.
  std::mt19937 rng(12345);
  const std::string alphabet = "-\r\n b:;=\"\\ContentDisposition";
  for (int round = 0; round < 2000; ++round) {
    std::string text = round % 2 ? "--b\r\n" : "";
    std::size_t n = rng() % 300;
    for (std::size_t i = 0; i < n; ++i) text += alphabet[rng() % alphabet.size()];
    http::multipart_parser p("b", {.max_parts = 5, .max_head_size = 64, .max_part_size = 100});
    recorder rec;
    auto cb = rec.callbacks();
    for (std::size_t i = 0; i < text.size();) {
      std::size_t step = 1 + rng() % 17;
      if (!p.feed(std::string_view(text).substr(i, step), cb)) break;
      i += step;
    }
    (void)p.finish();
    for (const auto& part : rec.parts) EXPECT_LE(part.data.size(), 100u);
  }
}

TEST(multipart, reads_a_request_body_as_it_arrives) {
  auto handler = [](http::request& req, http::response& res) {
    auto boundary = http::multipart_boundary(req.header("Content-Type").value_or(""));
    if (!boundary) throw http::status_error(400, "no boundary");
    http::multipart_parser parser(*boundary);
    std::string seen;
    http::multipart_callbacks cb{.on_part = [&](const http::multipart_part& p) { seen += "[" + p.name + "]"; },
                                 .on_data = [&](std::string_view d) { seen += d; },
                                 .on_part_end = [&] { seen += ";"; }};
    if (auto r = http::read_multipart(req, parser, cb); !r) throw http::status_error(400, r.error().message());
    res.body = seen;
  };
  std::vector<std::string> pieces;
  for (std::size_t i = 0; i < body.size(); i += 9) pieces.push_back(body.substr(i, 9));
  auto r = ht::request_builder()
               .method(http::method::post)
               .header("Content-Type", "multipart/form-data; boundary=XyZ")
               .body_pieces(pieces)
               .call(handler);
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.body(), "[field]value one;[file]line 1\r\n--XyZnot a delimiter\r\nline 3;[empty];");
  r = ht::request_builder()
          .method(http::method::post)
          .header("Content-Type", "multipart/form-data; boundary=XyZ")
          .body("--XyZ\r\ngarbage")
          .call([&](http::request& req, http::response& res) {
            try {
              handler(req, res);
            } catch (const http::status_error& e) {
              res.status = e.status();
            }
          });
  EXPECT_EQ(r.status(), 400);
}
