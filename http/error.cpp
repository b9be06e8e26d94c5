#include <dusty/http/error.hpp>

#include <string>

namespace dusty::http {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "dusty.http"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::bad_request: return "malformed request";
      case errc::invalid_method: return "invalid request method";
      case errc::invalid_target: return "invalid request target";
      case errc::invalid_version: return "invalid HTTP version";
      case errc::version_not_supported: return "HTTP version not supported";
      case errc::invalid_header: return "invalid header field";
      case errc::invalid_line_ending: return "bare CR or LF in request head";
      case errc::obsolete_line_folding: return "obsolete line folding in header field";
      case errc::invalid_host: return "missing or repeated Host header";
      case errc::invalid_content_length: return "invalid Content-Length";
      case errc::duplicate_content_length: return "repeated Content-Length";
      case errc::content_length_with_transfer_encoding:
        return "Content-Length together with Transfer-Encoding";
      case errc::invalid_transfer_encoding: return "invalid Transfer-Encoding";
      case errc::unsupported_transfer_encoding: return "unsupported transfer coding";
      case errc::unsupported_expectation: return "unsupported Expect value";
      case errc::uri_too_long: return "request line too long";
      case errc::header_too_large: return "header section too large";
      case errc::too_many_headers: return "too many header fields";
      case errc::invalid_chunk_size: return "invalid chunk size";
      case errc::invalid_chunk: return "invalid chunked framing";
      case errc::body_too_large: return "request body too large";
      case errc::not_found: return "no route for path";
      case errc::method_not_allowed: return "method not allowed for path";
      case errc::too_many_params: return "route has more params than the caller can hold";
      case errc::too_many_query_params: return "too many query parameters";
      case errc::invalid_form: return "malformed form body";
      case errc::invalid_multipart: return "malformed multipart body";
      case errc::too_many_parts: return "too many form fields or multipart parts";
      case errc::part_too_large: return "multipart part too large";
      case errc::invalid_content_encoding: return "compressed data does not decode";
      case errc::unsupported_content_encoding: return "unsupported content coding";
      case errc::invalid_url: return "invalid URL";
      case errc::unsupported_scheme: return "unsupported URL scheme";
      case errc::invalid_response: return "malformed response";
      case errc::response_too_large: return "response too large";
      case errc::too_many_redirects: return "too many redirects";
    }
    return "unknown dusty.http error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

status status_for(errc e) noexcept {
  switch (e) {
    case errc::version_not_supported: return status::http_version_not_supported;
    case errc::unsupported_transfer_encoding: return status::not_implemented;
    case errc::unsupported_expectation: return status::expectation_failed;
    case errc::uri_too_long: return status::uri_too_long;
    case errc::header_too_large:
    case errc::too_many_headers: return status::request_header_fields_too_large;
    case errc::body_too_large: return status::content_too_large;
    case errc::not_found: return status::not_found;
    case errc::method_not_allowed: return status::method_not_allowed;
    case errc::too_many_params:
    case errc::invalid_url:
    case errc::unsupported_scheme: return status::internal_server_error;
    case errc::too_many_parts:
    case errc::part_too_large: return status::content_too_large;
    case errc::unsupported_content_encoding: return status::unsupported_media_type;
    case errc::invalid_response:
    case errc::response_too_large:
    case errc::too_many_redirects: return status::bad_gateway;
    case errc::invalid_form:
    case errc::invalid_multipart:
    case errc::invalid_content_encoding:
    case errc::bad_request:
    case errc::invalid_method:
    case errc::invalid_target:
    case errc::invalid_version:
    case errc::invalid_header:
    case errc::invalid_line_ending:
    case errc::obsolete_line_folding:
    case errc::invalid_host:
    case errc::invalid_content_length:
    case errc::duplicate_content_length:
    case errc::content_length_with_transfer_encoding:
    case errc::invalid_transfer_encoding:
    case errc::invalid_chunk_size:
    case errc::invalid_chunk:
    case errc::too_many_query_params: return status::bad_request;
  }
  return status::bad_request;
}

status status_for(const std::error_code& ec) noexcept {
  if (ec.category() == error_category()) {
    return status_for(static_cast<errc>(ec.value()));
  }
  return status::internal_server_error;
}

}  // namespace dusty::http
