#pragma once
// One request/response exchange on an HTTP/2 connection: what nghttp2's callbacks collect
// for it (header fields, request body bytes) and what its handler's fiber produces (the
// response body the data provider hands to nghttp2). Private to http/h2: the connection
// owns its streams, and every member is used on the connection's shard only.
#include <dusty/core/arena.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/wait_queue.hpp>
#include <dusty/http/fields.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace dusty::http::h2 {

struct stream {
  // A small first chunk: a typical request's fields and response head fit in 1 KiB, and a
  // stream is allocated per request (4 KiB each showed up in profiles).
  explicit stream(std::int32_t stream_id) : id(stream_id), arena({.first_chunk_size = 1024}), fields(&arena) {}
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  std::int32_t id;
  /// The request's memory: its header fields, and the response's (reset never; the
  /// stream is freed whole).
  dusty::arena arena;

  // ---- the request head, from HEADERS (+ CONTINUATION) ----
  std::pmr::vector<header_field> fields;
  std::string_view method, scheme, authority, path;  ///< Pseudo-header fields.
  /// Decoded size so far (RFC 9113 section 6.5.2's measure).
  std::size_t header_list_size = 0;
  /// More than max_header_list_size or limits.max_headers: answered 431, fields dropped.
  bool headers_too_large = false;

  // ---- the request body, from DATA ----
  /// Pieces as they arrived. The front one may be lent to the handler (read_some), so
  /// pieces are never appended to in place.
  std::deque<std::string> body;
  bool body_ended = false;  ///< END_STREAM seen.
  /// The response is out and the handler left body unread: what arrives is discarded
  /// (up to limits.max_drain, then RST_STREAM NO_ERROR), as HTTP/1 drains it.
  bool discarding = false;
  std::uint64_t discarded = 0;
  dusty::wait_queue body_arrived;

  // ---- the response body, for nghttp2's data provider ----
  std::string out;              ///< Streamed bytes not yet framed, from out_offset.
  std::size_t out_offset = 0;
  std::string_view out_borrowed;  ///< A buffered body, lent by the handler's response.
  bool out_eof = false;       ///< Nothing follows what out and out_borrowed hold.
  bool out_deferred = false;  ///< The provider said DEFERRED: resume it when bytes come.
  bool out_aborted = false;   ///< The fiber left: the provider must not touch its bytes.
  std::uint64_t out_framed = 0;  ///< Bytes handed to nghttp2 so far (progress).
  bool response_started = false;  ///< The response's HEADERS were submitted.
  bool response_sent = false;     ///< The frame with END_STREAM went out.
  bool reset_sent = false;       ///< The server reset the stream (RST_STREAM submitted).
  dusty::wait_queue out_progress;

  std::size_t out_pending() const noexcept { return out.size() - out_offset + out_borrowed.size(); }

  // ---- lifetime ----
  enum class phase : std::uint8_t {
    head,     ///< HEADERS (and CONTINUATION) still arriving.
    queued,   ///< Complete, waiting in connection::ready_ for a worker fiber.
    running,  ///< A worker fiber serves it (handler, then the response).
    done,     ///< The fiber has left; what the response still has to send is in `out`.
  };
  phase ph = phase::head;
  bool closed = false;       ///< nghttp2 closed the stream (done, or reset).
  bool in_handler = false;   ///< The handler runs: a reset cancels its fiber.
  fiber* runner = nullptr;   ///< The worker fiber serving it, while running.
  // While done and not closed: when out_framed last moved, to reset streams whose client
  // stopped reading them (connection::sweep).
  std::chrono::steady_clock::time_point stalled_since;
  std::uint64_t stalled_framed = 0;
};

}  // namespace dusty::http::h2
