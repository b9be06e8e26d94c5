// The chunked body decoder on its own: the input is the bytes after a request head.
//
// Properties (h1_support.hpp): the same result whole and byte by byte, the reference
// decoder's body and length wherever it completes; and tight limits only ever turn a
// result into an error, never into another body.
#include <dusty/http/h1/body_decoder.hpp>

#include "h1_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = dusty::fuzz::text(data, size);
  auto roomy = dusty::fuzz::check_chunked(in);
  auto tight = dusty::fuzz::check_chunked(in, {.max_body_size = 64, .max_chunk_line = 16, .max_trailer_size = 32});
  if (tight.done) DUSTY_FUZZ_CHECK(tight == roomy);
  return 0;
}
