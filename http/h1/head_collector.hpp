#pragma once
// The llhttp half shared by request_parser and response_parser: an llhttp parser whose
// callbacks record where the start-line pieces and the header fields lie, as offsets into
// the caller's buffer, and stop at the end of the head. The parsers feed it, then validate
// and publish what it collected; their own rules (request line, Host, framing) stay there.
//
// Offsets rather than pointers, so the caller may move its buffer between calls. Nothing
// here allocates except reserve(), which sizes the field storage to `max_headers` once.
//
// Threading: owned by one parser, used from that parser's fiber; never suspends.

#include <dusty/http/error.hpp>
#include <dusty/http/fields.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace dusty::http::h1 {

/// Whether every member of a Transfer-Encoding list is "chunked"; llhttp has already
/// checked that the last one is, and that it appears once. Neither side decodes another
/// transfer coding.
bool only_chunked(std::string_view transfer_encoding) noexcept;

/// An llhttp parser plus the spans its callbacks recorded. Plain state: the owning parser
/// reads and resets the fields directly.
struct head_collector {
  struct span {
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
  };
  struct raw_field {
    span name;
    span value;
  };
  /// Which span the last data callback extended; llhttp may deliver one span in pieces.
  enum class in_span : std::uint8_t { none, method, url, status, field, value };
  /// What execute() stopped at.
  enum class step : std::uint8_t {
    need_more,        ///< Everything given was consumed; the head is not complete.
    head_end,         ///< The head ends at `fed`.
    too_many_fields,  ///< One field more than `max_headers`.
    llhttp_error,     ///< llhttp rejected the input; see llhttp_t::error.
  };
  enum class message_type : std::uint8_t { request, response };

  /// Clamps `max_headers` to what a parser can represent and allocates storage for it.
  explicit head_collector(std::size_t max_headers);

  /// Starts a new head of type `type`; keeps the field storage.
  void reset(message_type type) noexcept;
  /// Allocates the field storage again after release().
  void reserve();
  /// Frees the field storage; the next reserve() allocates it again.
  void release() noexcept;

  /// Feeds `buffer[fed, stop)` to llhttp. `buffer` starts with the head's first byte.
  /// Defined inline in head_collector_execute.hpp, which .cpp files include.
  step execute(std::string_view buffer, std::size_t stop) noexcept;

  /// `s` as a view into `buffer`.
  static std::string_view view(std::string_view buffer, span s) noexcept { return buffer.substr(s.offset, s.size); }

  /// 10 for HTTP/1.0, 11 for HTTP/1.1, 0 for any other version.
  unsigned version() const noexcept;

  /// The llhttp_t, kept opaque so llhttp.h stays out of this header.
  void* llhttp() noexcept { return llhttp_storage; }
  const void* llhttp() const noexcept { return llhttp_storage; }

  alignas(8) unsigned char llhttp_storage[128];
  std::size_t max_headers;
  const char* base = nullptr;  // buffer start during llhttp_execute
  std::uint32_t fed = 0;       // bytes given to llhttp
  in_span in = in_span::none;
  span method;  // request line
  span url;     // request line
  span status;  // status line: the reason phrase
  std::vector<raw_field> raw_fields;  // capacity max_headers (or 0 after release())
  std::vector<header_field> fields;   // capacity max_headers (or 0 after release())
};

}  // namespace dusty::http::h1
