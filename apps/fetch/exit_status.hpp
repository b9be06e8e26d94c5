#pragma once
// dusty-fetch's exit statuses: curl's numbers where curl has the same condition, so that
// scripts written for curl read them the same way.
#include <dusty/core/error.hpp>
#include <dusty/http/error.hpp>
#include <dusty/net/error.hpp>

#include <system_error>

namespace dusty::apps::fetch {

enum exit_status : int {
  exit_ok = 0,
  exit_failed = 1,               ///< Unsupported scheme, or a failure not listed here.
  exit_usage = 2,                ///< Bad command line or runtime configuration.
  exit_bad_url = 3,              ///< The URL does not parse.
  exit_resolve = 6,              ///< The host name did not resolve.
  exit_connect = 7,              ///< The connection was refused or the host is unreachable.
  exit_bad_response = 8,         ///< The server's answer is not valid HTTP/1.x.
  exit_http_error = 22,          ///< --fail and a status of 400 or above.
  exit_write_error = 23,         ///< Writing the body to stdout or the -o file failed.
  exit_read_error = 26,          ///< Reading a @FILE request body failed.
  exit_timeout = 28,             ///< --timeout, --connect-timeout or the read timeout passed.
  exit_tls_handshake = 35,       ///< The TLS handshake failed (protocol, alert, no common cipher).
  exit_too_many_redirects = 47,  ///< More redirects than --max-redirs.
  exit_receive_error = 56,       ///< The connection broke while sending or receiving.
  exit_tls_client_cert = 58,     ///< --cert/--key cannot be used (curl: CURLE_SSL_CERTPROBLEM).
  exit_tls_peer_cert = 60,       ///< The server's certificate did not verify or is for another host.
  exit_bad_encoding = 61,        ///< A gzip/deflate body that does not decode.
  exit_too_large = 63,           ///< The body is larger than --max-filesize.
  exit_tls_ca_file = 77,         ///< The CA file cannot be used (curl: CURLE_SSL_CACERT_BADFILE).
  exit_interrupted = 130,        ///< SIGINT or SIGTERM.
};

/// The exit status for the code() of a client_error (or of any failed fetch).
inline exit_status exit_status_for(const std::error_code& ec) noexcept {
  using http_errc = http::errc;
  if (ec == dusty::errc::timed_out || ec == std::errc::timed_out) return exit_timeout;
  if (ec == dusty::errc::cancelled) return exit_interrupted;
  if (ec == net::errc::host_not_found || ec == net::errc::dns_failure || ec == net::errc::invalid_host_name) return exit_resolve;
  if (ec == std::errc::connection_refused || ec == std::errc::host_unreachable || ec == std::errc::network_unreachable ||
      ec == std::errc::address_not_available)
    return exit_connect;
  if (ec == net::errc::tls_certificate_invalid || ec == net::errc::tls_host_name_mismatch) return exit_tls_peer_cert;
  if (ec == net::errc::tls_handshake_failed) return exit_tls_handshake;
  if (ec == net::errc::tls_truncated || ec == net::errc::tls_protocol_error) return exit_receive_error;
  if (ec == http_errc::invalid_url) return exit_bad_url;
  if (ec == http_errc::unsupported_scheme) return exit_failed;
  if (ec == http_errc::invalid_response) return exit_bad_response;
  if (ec == http_errc::response_too_large) return exit_too_large;
  if (ec == http_errc::too_many_redirects) return exit_too_many_redirects;
  if (ec == http_errc::invalid_content_encoding || ec == http_errc::unsupported_content_encoding) return exit_bad_encoding;
  if (ec == dusty::errc::eof || ec == std::errc::connection_reset || ec == std::errc::broken_pipe ||
      ec == std::errc::connection_aborted)
    return exit_receive_error;
  return exit_failed;
}

}  // namespace dusty::apps::fetch
