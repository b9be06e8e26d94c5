#pragma once
// Range requests (RFC 9110 section 14) for handlers that serve a representation whose
// length they know: files, generated data, cached blobs.
//
//   auto plan = http::apply_range(req, res, data.size(), etag);   // status and headers set
//   if (plan.status == 416) return;                                // res is ready to send
//   res.body = data.substr(plan.first, plan.length());             // 200: whole, 206: part
//
// Only the "bytes" unit is understood. One range, or several that overlap or touch, is
// answered 206 with one Content-Range; ranges that leave gaps between them are answered
// with the whole representation (200), which RFC 9110 section 14.2 allows ("a server MAY
// ignore the Range header field"), as are a malformed Range header, another unit, or more
// than max_range_specs ranges (a request for many tiny ranges is a known denial-of-service
// pattern). A Range whose every range starts past the end is answered 416 with
// "Content-Range: bytes */<length>". If-Range (section 13.1.5) is honoured: a Range is
// applied only when If-Range names the current strong ETag, or a Last-Modified date.
//
// Nothing here suspends; all of it may run on any shard.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace dusty::http {

class request;
class response;

/// One byte-range-spec as written: "a-b" (first and last), "a-" (last unset) or "-n"
/// (suffix: first unset, last holds n).
struct byte_range_spec {
  std::optional<std::uint64_t> first;
  std::optional<std::uint64_t> last;
};

/// Most byte-range-specs a Range header may hold before it is ignored. Default: 16.
inline constexpr std::size_t max_range_specs = 16;

/// Parses a Range value ("bytes=0-99, 200-"). nullopt when it is malformed, uses another
/// unit, has a spec whose last is below its first, or holds more than `max_specs` specs:
/// such a header is ignored (RFC 9110 section 14.2).
std::optional<std::vector<byte_range_spec>> parse_range(std::string_view value,
                                                        std::size_t max_specs = max_range_specs);

/// What to answer: 200 (the whole representation), 206 (bytes first..last, inclusive)
/// or 416 (nothing satisfiable).
struct range_plan {
  unsigned status = 200;
  std::uint64_t first = 0;
  std::uint64_t last = 0;  ///< Inclusive; for 200, length - 1 (0 when length is 0).
  std::uint64_t total = 0; ///< The representation's length.
  /// Bytes to send: last - first + 1, or 0 for 416 and for an empty representation.
  std::uint64_t length() const noexcept { return status == 416 || total == 0 ? 0 : last - first + 1; }
};

/// Decides how to answer `range` (a Range header value, or nullopt) for a representation
/// of `length` bytes. A range reaching past the end is shortened to it; a suffix longer
/// than the representation means all of it.
range_plan plan_range(std::optional<std::string_view> range, std::uint64_t length);

/// What the representation is, for If-Range.
struct range_validator {
  /// The current entity tag with its quotes ("\"v1\"" or "W/\"v1\""); empty if none.
  std::string_view etag;
  /// The Last-Modified time, if the handler knows it.
  std::optional<std::chrono::system_clock::time_point> last_modified;
};

/// plan_range for a request: reads Range (GET requests only, as RFC 9110 section 14.2
/// says) and If-Range, then sets on `res` the status (206, 416; 200 is left as it is),
/// Accept-Ranges: bytes, and Content-Range for 206 and 416. The handler then sends
/// plan.length() bytes from plan.first, or nothing for 416.
range_plan apply_range(const request& req, response& res, std::uint64_t length, const range_validator& validator = {});

}  // namespace dusty::http
