#pragma once
// multipart/form-data bodies (RFC 7578 on RFC 2046 section 5.1): what an HTML form with a
// file input posts, and what curl -F sends.
//
// multipart_parser is a push parser: feed() it the body in pieces of any size, as they
// arrive, and it calls back with each part's head, the part's data in pieces (never
// buffering a whole part), and the part's end. Memory stays bounded by the longest
// boundary plus limits.max_head_size, whatever the body holds.
//
//   auto boundary = http::multipart_boundary(req.header("Content-Type").value_or(""));
//   if (!boundary) throw http::status_error(400, "not multipart");
//   http::multipart_parser parser(*boundary, {.max_parts = 16});
//   std::string current;
//   http::multipart_callbacks cb{
//       .on_part = [&](const http::multipart_part& p) { current = p.name; },
//       .on_data = [&](std::string_view bytes) { store(current, bytes); },
//   };
//   if (auto r = http::read_multipart(req, parser, cb); !r)
//     throw http::status_error(http::status_for(r.error()), r.error().message());
//
// For a body already in memory, parse_multipart() collects every part at once.
//
// What is accepted: CRLF line endings only; transport padding (spaces, tabs) after a
// delimiter; the boundary inside data when what follows it does not make a delimiter
// ("--b" + "x" is data); a preamble before the first delimiter and an epilogue after the last, both
// ignored; part header fields as in HTTP (no obs-fold). Content-Disposition parameters
// may be tokens or quoted strings (backslash escapes undone); `filename*` is ignored, as
// RFC 7578 section 4.2 says senders must not use it. Every part must have a
// Content-Disposition (RFC 7578 section 4.2); one without a name parameter is delivered
// with an empty name. Nothing here suspends except read_multipart, which reads the body.
#include <dusty/http/error.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dusty::http {

class request;

/// Bounds on what a multipart_parser accepts.
struct multipart_limits {
  /// Most parts in one body; one more fails with errc::too_many_parts (413). Default: 100.
  std::size_t max_parts = 100;
  /// Largest header section of one part, CRLFs included; more fails with
  /// errc::part_too_large (413). Default: 8 KiB.
  std::size_t max_head_size = 8 * 1024;
  /// Most header fields in one part; more fails with errc::invalid_multipart. Default: 16.
  std::size_t max_head_fields = 16;
  /// Largest data of one part; more fails with errc::part_too_large (413). Default: 1 MiB.
  std::size_t max_part_size = 1024 * 1024;
};

/// The head of one part. Header names are kept as received.
struct multipart_part {
  std::string name;                     ///< Content-Disposition's name parameter.
  std::optional<std::string> filename;  ///< Its filename parameter, when present (files).
  std::string content_type;             ///< The part's Content-Type; empty when absent
                                        ///< (RFC 7578: text/plain then).
  std::vector<std::pair<std::string, std::string>> headers;  ///< Every header field.

  /// The first header called `name` (ASCII case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const noexcept;
};

/// What a multipart_parser calls. Any callback may be empty. A callback may throw: the
/// exception leaves feed() and the parser must not be used again.
struct multipart_callbacks {
  /// A part begins; its data follows.
  std::function<void(const multipart_part&)> on_part;
  /// The next piece of the current part's data (valid during the call only).
  std::function<void(std::string_view)> on_data;
  /// The current part ended.
  std::function<void()> on_part_end;
};

/// The boundary parameter of a multipart Content-Type value ("multipart/form-data;
/// boundary=xyz"; quoted or not), when the type is multipart/* and the boundary is 1 to
/// 70 characters long (RFC 2046 section 5.1.1); nullopt otherwise.
std::optional<std::string> multipart_boundary(std::string_view content_type);

/// A streaming multipart parser for one body. Single-use; not thread-safe.
class multipart_parser {
 public:
  /// `boundary` without the leading "--" (what multipart_boundary returns).
  explicit multipart_parser(std::string_view boundary, const multipart_limits& limits = {});

  /// Parses the next piece of the body, calling `cb` for what it completes. Errors:
  /// errc::invalid_multipart (malformed delimiter or part head, or no boundary),
  /// errc::too_many_parts, errc::part_too_large. After an error every call fails the same.
  /// Bytes after the closing delimiter are ignored.
  result<void> feed(std::string_view data, const multipart_callbacks& cb);
  /// Declares the end of the body: errc::invalid_multipart unless the closing delimiter
  /// was seen.
  result<void> finish();
  /// True once the closing delimiter ("--boundary--") was parsed.
  bool done() const noexcept { return state_ == state::epilogue; }
  /// Number of parts begun so far.
  std::size_t parts() const noexcept { return parts_; }

 private:
  enum class state { preamble, after_delimiter, head, data, epilogue, failed };
  result<void> fail(errc e);
  result<void> parse_head(std::string_view head, const multipart_callbacks& cb);
  // The first delimiter in `text` (or one whose end is not there yet), npos if none.
  std::size_t find_delimiter(std::string_view text) const noexcept;

  std::string delimiter_;  // "\r\n--" + boundary; the first one may lack the CRLF
  multipart_limits limits_;
  std::string buffer_;     // bytes not yet consumed
  state state_ = state::preamble;
  errc error_ = errc::invalid_multipart;
  std::size_t parts_ = 0;
  std::size_t part_size_ = 0;
  multipart_part part_;
};

/// Feeds the body of `req` to `parser` piece by piece as it arrives (request::read_body_some;
/// do not mix with request::body()), then finish(). Suspends. Body errors throw
/// status_error as read_body_some does; parser errors are returned.
result<void> read_multipart(request& req, multipart_parser& parser, const multipart_callbacks& cb);

/// One complete part, from parse_multipart.
struct multipart_field {
  multipart_part part;
  std::string data;
};

/// Parses a whole body in memory. Same errors as multipart_parser; limits.max_part_size
/// bounds each part's data.
result<std::vector<multipart_field>> parse_multipart(std::string_view body, std::string_view boundary,
                                                     const multipart_limits& limits = {});

}  // namespace dusty::http
