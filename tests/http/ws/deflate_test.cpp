#include <dusty/http/ws/deflate.hpp>

#include <gtest/gtest.h>

#include <string>

namespace dusty::http::ws {
namespace {

// "a" as raw DEFLATE in one final block (BFINAL set), as zlib's Z_FINISH writes it.
const std::string final_block("\x4b\x04\x00", 3);

TEST(inflater, a_message_ending_in_a_final_block_needs_no_tail) {
  inflater z;
  std::string out;
  EXPECT_EQ(z.inflate(final_block, out, 100), inflater::result::ok);
  EXPECT_EQ(z.finish(out, 100), inflater::result::ok);
  EXPECT_EQ(out, "a");
}

// Found by tests/fuzz/ws_frame: a byte after the final block was corrupt when it came in
// the same piece, but inflated as a new stream when it came in the next one.
TEST(inflater, bytes_after_a_final_block_are_corrupt_however_split) {
  std::string out;
  inflater whole;
  EXPECT_EQ(whole.inflate(final_block + "x", out, 100), inflater::result::corrupt);
  inflater pieces;
  EXPECT_EQ(pieces.inflate(final_block, out, 100), inflater::result::ok);
  EXPECT_EQ(pieces.inflate("x", out, 100), inflater::result::corrupt);
}

}  // namespace
}  // namespace dusty::http::ws
