#pragma once
// Errors of the net module.
//
// Every net call that can fail returns result<T>: a std::error_code the caller compares
// and decides on. Three kinds of code appear:
//   - the operating system's, in std::generic_category() (ECONNREFUSED, EADDRINUSE, ...);
//   - dusty::errc from core: errc::eof (the peer closed), errc::timed_out (the call's
//     deadline passed), errc::closed (the listener or socket was closed under the call);
//   - dusty::net::errc below, for conditions net itself detects.
// Cancelling the calling fiber is not an error code: the call throws cancelled_error.
// In net's documentation a bare `errc::x` is dusty::errc and net's own are written
// net::errc::x. (Inside namespace dusty::net, spell core's `dusty::errc::eof`: the
// unqualified name finds net::errc.)
//
// A bare code does not say what was being done, so net never formats messages itself:
// the caller, which knows, wraps the code in net::error when it reports or unwinds:
//
//   auto c = net::connect(to, after(2s));
//   if (!c) throw net::error(c.error(), "connect to " + to.to_string());
//   // what(): "connect to 127.0.0.1:9: Connection refused"
//
// Messages are for people and logs; compare codes, not text.
#include <string>
#include <system_error>

namespace dusty::net {

/// Conditions the net module reports itself.
enum class errc {
  invalid_address = 1,  ///< Not an IPv4 literal, a bracketed IPv6 literal or a unix: path.
  missing_port,         ///< An IP address without ":port".
  invalid_port,         ///< The port is not a decimal number from 0 to 65535.
  path_too_long,        ///< A Unix socket path longer than the 107 bytes sun_path holds.
  input_limit,          ///< A buffered read needs more input than its limit allows.
  host_not_found,       ///< The name does not exist, or has no address of the family asked for.
  dns_failure,          ///< No name server answered usably (timeout, SERVFAIL, malformed reply).
  invalid_host_name,    ///< Not a valid host name (empty, too long, bad characters).
  // TLS (net/tls). The code says what kind of failure; tls::stream::error_detail() has
  // OpenSSL's reason ("certificate verify failed: self-signed certificate").
  tls_handshake_failed,      ///< The TLS handshake failed (protocol error, alert, no common cipher).
  tls_certificate_invalid,   ///< The peer's certificate did not verify (untrusted, expired, ...).
  tls_host_name_mismatch,    ///< The peer's certificate is valid but not for the name asked for.
  tls_truncated,             ///< The peer closed the connection without a TLS close_notify.
  tls_plaintext_http,        ///< A TLS server received plaintext HTTP (e.g. "GET / HTTP/1.1").
  tls_protocol_error,        ///< A fatal TLS error after the handshake (bad record, alert).
  file_truncated,            ///< A file ended before the bytes asked of stream::send_file (it shrank).
};

/// The category of net::errc values; its name is "dusty.net".
const std::error_category& error_category() noexcept;

/// Found by ADL, so `std::error_code ec = net::errc::input_limit;` works.
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

/// An error code with what was being done. what() is "<context>: <code's message>",
/// e.g. "listen on 0.0.0.0:80: Address already in use". code() is the original code.
class error : public std::system_error {
 public:
  error(std::error_code ec, const std::string& context) : std::system_error(ec, context) {}
};

}  // namespace dusty::net

template <>
struct std::is_error_code_enum<dusty::net::errc> : std::true_type {};
