// Content codings: Accept-Encoding negotiation, the bounded decompressor, the compressor.
//
// Input: byte 0 picks the coding (bit 0) and the size of the pieces fed (bits 1-7); byte 1
// the output bound in units of 16 bytes; the rest is the compressed stream, and also the
// Accept-Encoding value and the plain text for the round trip.
//
// Properties: the decompressor never appends more than its bound (plus the one byte that
// tells it the bound was passed), fails exactly when the output passes the bound, and until
// then produces a prefix of what the unbounded decompressor produces; negotiation picks an
// offered coding or identity; compressing then decompressing gives the input back.
#include <dusty/http/codec/content_coding.hpp>

#include "fuzz.hpp"

#include <algorithm>
#include <array>

using namespace dusty::http;

namespace {

struct run {
  std::string out;
  dusty::result<void> r;
};

run decompress(content_coding coding, std::uint64_t bound, std::string_view in, std::size_t piece) {
  decompressor d(coding, bound);
  run x;
  for (std::size_t at = 0; at < in.size() && x.r; at += piece) {
    x.r = d.write(in.substr(at, piece), x.out);
    DUSTY_FUZZ_CHECK(x.out.size() == d.total_out());
    if (x.r) {
      DUSTY_FUZZ_CHECK(x.out.size() <= bound);
    } else if (x.r.error() == errc::response_too_large) {
      DUSTY_FUZZ_CHECK(x.out.size() == bound + 1);
    } else {
      DUSTY_FUZZ_CHECK(x.r.error() == errc::invalid_content_encoding && x.out.size() <= bound);
    }
  }
  return x;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  auto coding = (data[0] & 1) != 0 ? content_coding::gzip : content_coding::deflate;
  std::size_t piece = (data[0] >> 1) + 1;
  std::uint64_t bound = data[1] * 16u;
  auto in = dusty::fuzz::text(data + 2, size - 2);

  auto bounded = decompress(coding, bound, in, piece);
  auto unbounded = decompress(coding, UINT64_MAX, in, in.size() + 1);
  DUSTY_FUZZ_CHECK(unbounded.out.starts_with(std::string_view(bounded.out).substr(0, bound)));
  if (bounded.r && unbounded.r) DUSTY_FUZZ_CHECK(bounded.out == unbounded.out);

  constexpr std::array offers{content_coding::gzip, content_coding::deflate};
  for (std::size_t n = 0; n <= offers.size(); ++n) {
    std::span offered(offers.data(), n);
    auto c = negotiate_content_coding(in, offered);
    DUSTY_FUZZ_CHECK(c == content_coding::identity || std::ranges::find(offered, c) != offered.end());
  }

  compressor z(coding, 1);
  std::string packed;
  z.write(in.substr(0, in.size() / 2), packed);
  z.flush(packed);
  z.write(in.substr(in.size() / 2), packed);
  z.finish(packed);
  auto back = decompress(coding, in.size(), packed, piece);
  DUSTY_FUZZ_CHECK(back.r.has_value() && back.out == in);
  return 0;
}
