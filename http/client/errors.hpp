#pragma once
// How http::client turns error codes into client_error messages that say what happened
// and where ("timeout after 2s reading headers from 127.0.0.1:8080").
#include <dusty/http/client.hpp>
#include <dusty/http/h1/client_connection.hpp>

#include <dusty/core/reactor.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace dusty::http::detail {

/// What a fetch attempt needs to describe its failures, and its time limits.
struct fetch_context {
  deadline request_deadline = no_deadline;    ///< the whole fetch
  std::chrono::milliseconds request_timeout{0};
  std::chrono::milliseconds read_timeout{0};  ///< gap between received bytes
  std::uint64_t max_response_size = UINT64_MAX;
  std::string peer;                           ///< "127.0.0.1:8080", once connected
};

/// "2s", "1.5s", "250ms".
std::string format_duration(std::chrono::milliseconds d);
/// "8 MiB", "64 KiB", "1000 bytes".
std::string format_size(std::uint64_t n);

/// The client_error for `ec` met while `doing` ("reading headers from", "sending the
/// request to", "reading the body from"): the peer and, for timeouts, which limit passed.
/// `detail`, when given, is the TLS layer's reason ("tlsv13 alert certificate required")
/// and replaces the code's generic message.
client_error transfer_error(std::error_code ec, std::string_view doing, const fetch_context& ctx,
                            std::string_view detail = {});

/// The reason the TLS stream under `c` gave for its last failure (tls::stream's
/// error_detail()), or empty when `c` is not over TLS or nothing failed.
std::string_view tls_detail(client_connection& c) noexcept;

/// "response larger than 8 MiB from 127.0.0.1:8080".
client_error too_large_error(const fetch_context& ctx);

}  // namespace dusty::http::detail
