#include <dusty/net/error.hpp>

namespace dusty::net {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "dusty.net"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::invalid_address:
        return "not a numeric IPv4 address, a bracketed IPv6 address or a unix: path "
               "(host names need a resolver)";
      case errc::missing_port: return "no :port after the address";
      case errc::invalid_port: return "port is not a number from 0 to 65535";
      case errc::path_too_long: return "Unix socket path longer than 107 bytes";
      case errc::input_limit: return "input exceeds the buffer limit";
      case errc::host_not_found: return "host not found";
      case errc::dns_failure: return "name servers did not answer";
      case errc::invalid_host_name: return "invalid host name";
      case errc::tls_handshake_failed: return "TLS handshake failed";
      case errc::tls_certificate_invalid: return "certificate verify failed";
      case errc::tls_host_name_mismatch: return "host name mismatch";
      case errc::tls_truncated: return "TLS connection closed without close_notify (truncated)";
      case errc::tls_plaintext_http: return "plain HTTP request sent to a TLS port";
      case errc::tls_protocol_error: return "TLS protocol error";
      case errc::file_truncated: return "the file ended before the bytes to send (it shrank)";
    }
    return "unknown dusty.net error " + std::to_string(ev);
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace dusty::net
