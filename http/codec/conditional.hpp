#pragma once
// Conditional requests (RFC 9110 section 13): entity tags, If-None-Match (answer 304 Not
// Modified when the client's copy is current), If-Match (answer 412 Precondition Failed
// when the client would overwrite a changed resource), If-Modified-Since and
// If-Unmodified-Since.
//
//   auto tag = http::make_etag(hash_of(data));            // "\"<hash>\""
//   if (http::answer_conditional(req, res, {.etag = tag})) return;   // 304 or 412 is set
//   res.header("ETag", tag);
//   res.body = data;
//
// Comparison follows section 8.8.3.2: If-None-Match uses the weak comparison (W/"a"
// matches "a"), If-Match the strong one (weak tags never match). "*" matches any current
// representation. Lists ("a", W/"b") are understood; malformed list members are skipped.
// Evaluation follows section 13.2.2: If-Match, then If-Unmodified-Since (only without
// If-Match), then If-None-Match, then If-Modified-Since (only without If-None-Match, and
// only for GET and HEAD).
//
// Nothing here suspends; all of it may run on any shard.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace dusty::http {

class request;
class response;

/// A parsed entity-tag: `opaque` without quotes, `weak` for W/"...".
struct entity_tag {
  std::string_view opaque;
  bool weak = false;
};

/// Parses one entity-tag ("\"xyz\"" or "W/\"xyz\""), surrounding whitespace allowed.
std::optional<entity_tag> parse_etag(std::string_view text) noexcept;

/// `"<opaque>"`, or `W/"<opaque>"` when weak. `opaque` must not contain '"'.
std::string make_etag(std::string_view opaque, bool weak = false);

/// Strong comparison: both strong and the same opaque string.
bool strong_match(const entity_tag& a, const entity_tag& b) noexcept;
/// Weak comparison: the same opaque string, weakness ignored.
bool weak_match(const entity_tag& a, const entity_tag& b) noexcept;

/// True when an If-None-Match value ("*", or a list of tags) matches `current` by weak
/// comparison. `current` is an entity-tag with quotes; an empty or unparsable one matches
/// only "*".
bool if_none_match(std::string_view header_value, std::string_view current) noexcept;
/// True when an If-Match value matches `current` by strong comparison ("*" matches any
/// existing representation: pass a non-empty `current`).
bool if_match(std::string_view header_value, std::string_view current) noexcept;

/// Parses an HTTP-date (IMF-fixdate; the obsolete RFC 850 and asctime forms too).
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) noexcept;
/// Formats an IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::chrono::system_clock::time_point t);

/// What the handler knows about the current representation.
struct validators {
  /// The entity-tag with quotes ("\"v1\"", "W/\"v1\""); empty when the resource has none.
  std::string_view etag;
  /// When it last changed, if known (compared at one-second resolution).
  std::optional<std::chrono::system_clock::time_point> last_modified;
};

/// The outcome of evaluating a request's preconditions.
enum class precondition {
  proceed,       ///< Answer normally.
  not_modified,  ///< 304: the client's cached copy is current (GET and HEAD).
  failed,        ///< 412: a precondition failed.
};

/// Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since of `req`
/// against `current` (RFC 9110 section 13.2.2). The representation is taken to exist, so
/// "If-Match: *" holds and "If-None-Match: *" matches even when `current.etag` is empty;
/// a handler for a resource that does not exist yet (a PUT creating it) checks those itself.
precondition evaluate_preconditions(const request& req, const validators& current);

/// evaluate_preconditions, then, unless the answer is proceed, prepares `res`: status 304
/// (with ETag and Last-Modified when known, and no body) or 412, and returns true: the
/// handler returns at once. Returns false, leaving `res` alone, to proceed.
bool answer_conditional(const request& req, response& res, const validators& current);

}  // namespace dusty::http
