#pragma once
// Content codings (RFC 9110 section 8.4): the gzip and deflate codecs on zlib, and the
// Accept-Encoding negotiation a server does before compressing.
//
//   http::compressor z(http::content_coding::gzip);
//   std::string out;
//   z.write(part1, out); z.flush(out);   // flush: what was written so far is decodable
//   z.finish(out);                       // the gzip trailer; z is done
//
//   http::decompressor d(http::content_coding::gzip, 8 << 20);  // at most 8 MiB out
//   auto r = d.write(received, out);    // errc::invalid_content_encoding, response_too_large
//   if (d.done()) ...                   // the stream ended (trailer checked)
//
// "deflate" is the zlib format (RFC 1950) as the RFC says, but the decompressor also
// takes raw deflate (RFC 1951), which some servers send under that name. "x-gzip" is
// gzip. Codecs are single-use; they allocate zlib's state once, in the constructor.
#include <dusty/http/error.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dusty::http {

enum class content_coding : std::uint8_t { identity, gzip, deflate };

/// One coding token, ASCII case-insensitive: identity, gzip, x-gzip, deflate.
std::optional<content_coding> parse_content_coding(std::string_view token) noexcept;
/// "identity", "gzip" or "deflate".
std::string_view to_string(content_coding c) noexcept;

/// The coding a response should use, given the request's Accept-Encoding value and the
/// codings the server offers in its order of preference: the offered coding with the
/// highest q-value (ties go to the earlier offer); identity when no header was sent, the
/// header is empty, or nothing offered is acceptable. Malformed elements are ignored.
/// ("gzip;q=0, *;q=0.5", "*", "identity;q=0" are all understood.)
content_coding negotiate_content_coding(std::optional<std::string_view> accept_encoding,
                                        std::span<const content_coding> offered) noexcept;

/// How much `accept_encoding` (the request's Accept-Encoding value, or nullopt) wants the
/// coding named `coding` (any token: "br", "zstd", ... too, for precompressed files): its
/// q-value in thousandths, 0 to 1000, from its own element, else from "*", else 0 (for
/// identity: still acceptable, weight 1). 0 means not acceptable. Without a header only
/// identity is acceptable.
int accept_encoding_weight(std::optional<std::string_view> accept_encoding, std::string_view coding) noexcept;

/// Streaming compressor. gzip or deflate (zlib format); `level` 1 (fast) to 9 (small).
class compressor {
 public:
  explicit compressor(content_coding coding, int level = 6);
  ~compressor();
  compressor(compressor&&) noexcept;
  compressor& operator=(compressor&&) noexcept;

  /// Compresses `input`, appending whatever output is ready to `out`.
  void write(std::string_view input, std::string& out);
  /// Appends everything needed to decode what was written so far (Z_SYNC_FLUSH): for
  /// streamed responses, where each piece must reach the client now.
  void flush(std::string& out);
  /// Ends the stream (trailer included). No write after it.
  void finish(std::string& out);

 private:
  struct state;
  std::unique_ptr<state> s_;
};

/// Streaming decompressor with a bound on its output.
class decompressor {
 public:
  /// Fails with errc::response_too_large once more than `max_output` bytes come out.
  explicit decompressor(content_coding coding, std::uint64_t max_output = UINT64_MAX);
  ~decompressor();
  decompressor(decompressor&&) noexcept;
  decompressor& operator=(decompressor&&) noexcept;

  /// Decodes `input`, appending the output to `out`. Errors: errc::invalid_content_encoding
  /// (not this coding, corrupt, data after the end), errc::response_too_large.
  result<void> write(std::string_view input, std::string& out);
  /// Checks that the stream ended: errc::invalid_content_encoding if it was cut short.
  result<void> finish();
  /// True once the end of the compressed stream was seen.
  bool done() const noexcept;
  std::uint64_t total_out() const noexcept;

 private:
  struct state;
  std::unique_ptr<state> s_;
};

}  // namespace dusty::http
