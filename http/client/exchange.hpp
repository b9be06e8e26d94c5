#pragma once
// client_exchange: what a client_response holds while its body is unread: the pooled
// connection, the limits and deadlines of the fetch, and the content decoder. It gives
// the connection back to the pool once the body has been read to its end, and closes it
// when the body is abandoned or an error occurs.
//
// Threading: belongs to the shard that fetched; every call may suspend.
#include <dusty/http/client.hpp>
#include <dusty/http/codec/content_coding.hpp>
#include <dusty/http/client/errors.hpp>
#include <dusty/http/client/pool.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace dusty::http::detail {

class client_exchange {
 public:
  /// `lease` holds a connection whose response head has just been read. `coding`: the
  /// Content-Encoding to undo, if any.
  client_exchange(client_lease lease, fetch_context ctx, std::optional<content_coding> coding);
  ~client_exchange();
  client_exchange(const client_exchange&) = delete;
  client_exchange& operator=(const client_exchange&) = delete;

  /// Up to buf.size() decoded body bytes; 0 at the end. Throws client_error.
  std::size_t read_some(std::span<char> buf);
  /// Appends the rest of the body to `out`. Throws client_error.
  void read_all(std::string& out);
  /// Ends the exchange early: drains up to `drain_max` bytes of raw body (bounded by the
  /// read timeout) to keep the connection, else closes it. Never throws, except
  /// cancelled_error.
  void abandon(std::uint64_t drain_max);
  /// The body has been read to its end and the connection released.
  bool done() const noexcept { return done_; }

 private:
  void check_size(std::uint64_t more);
  void end();
  [[noreturn]] void fail(const client_error& e);
  client_connection& conn() { return *lease_.connection(); }

  client_lease lease_;
  fetch_context ctx_;
  std::optional<decompressor> decoder_;
  std::string pending_;            // decoded bytes not yet handed out
  std::size_t pending_offset_ = 0;
  std::uint64_t delivered_ = 0;    // body bytes handed out (after decoding)
  bool done_ = false;
};

}  // namespace dusty::http::detail
