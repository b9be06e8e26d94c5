// multipart/form-data bodies. Input: a Content-Type value, '\n', the body.
//
// Properties: the streaming parser comes to the same outcome, and short of an error reports
// the same parts and data, whether the body arrives whole or in small pieces, and parse_multipart (the whole-body helper) agrees.
#include <dusty/http/codec/multipart.hpp>

#include "fuzz.hpp"

#include <string>

using namespace dusty::http;

namespace {

struct outcome {
  std::string log;  // each part's head and its data, in order
  bool fed = false;
  bool finished = false;
};

std::string describe(const multipart_part& p) {
  std::string s = "part " + p.name + "|" + p.filename.value_or("-") + "|" + p.content_type + "\n";
  for (const auto& [name, value] : p.headers) s += name + ": " + value + "\n";
  return s;
}

outcome feed(std::string_view boundary, std::string_view body, std::size_t piece, const multipart_limits& limits) {
  multipart_parser parser(boundary, limits);
  outcome out;
  multipart_callbacks cb{
      .on_part = [&](const multipart_part& p) { out.log += describe(p); },
      .on_data = [&](std::string_view d) { out.log += d; },
      .on_part_end = [&] { out.log += "\nend\n"; },
  };
  out.fed = true;
  for (std::size_t at = 0; at < body.size() && out.fed; at += piece) out.fed = parser.feed(body.substr(at, piece), cb).has_value();
  out.finished = out.fed && parser.finish().has_value();
  DUSTY_FUZZ_CHECK(parser.parts() <= limits.max_parts);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto [content_type, body] = dusty::fuzz::split_line(dusty::fuzz::text(data, size));
  auto boundary = multipart_boundary(content_type);
  if (!boundary) return 0;
  DUSTY_FUZZ_CHECK(!boundary->empty() && boundary->size() <= 70);

  multipart_limits limits{.max_parts = 8, .max_head_size = 512, .max_head_fields = 4, .max_part_size = 1024};
  auto whole = feed(*boundary, body, body.size() + 1, limits);
  auto pieces = feed(*boundary, body, 7, limits);
  DUSTY_FUZZ_CHECK(pieces.fed == whole.fed && pieces.finished == whole.finished);
  if (whole.fed) DUSTY_FUZZ_CHECK(pieces.log == whole.log);  // after an error, what came before may differ

  auto fields = parse_multipart(body, *boundary, limits);
  DUSTY_FUZZ_CHECK(fields.has_value() == whole.finished);
  if (fields) {
    std::string log;
    for (const auto& f : *fields) log += describe(f.part) + f.data + "\nend\n";
    DUSTY_FUZZ_CHECK(log == whole.log);
  }
  return 0;
}
