#include <dusty/http/h1/response_parser.hpp>

#include <dusty/http/detail/ascii.hpp>
#include <dusty/http/h1/head_collector_execute.hpp>

#include <llhttp.h>

#include <algorithm>
#include <cassert>

namespace dusty::http::h1 {

using detail::iequals;
using detail::trim_ows;
namespace {

constexpr std::size_t max_head_limit = std::size_t{1} << 30;

}  // namespace

std::optional<std::string_view> response_head::header(std::string_view name) const noexcept {
  return find_field(headers, name);
}

response_parser::response_parser(const response_limits& limits) : limits_{limits}, collector_{limits.max_headers} {
  limits_.max_head_size = std::clamp<std::size_t>(limits_.max_head_size, 16, max_head_limit);
  limits_.max_headers = collector_.max_headers;
  reset();
}

void response_parser::reset(request_kind kind) noexcept {
  collector_.reset(head_collector::message_type::response);
  kind_ = kind;
  head_size_ = 0;
  error_.clear();
  head_ = {};
}

result<std::size_t> response_parser::parse(std::string_view buffer) {
  if (error_) {
    return std::unexpected(error_);
  }
  if (head_size_ != 0) {
    return head_size_;
  }
  assert(buffer.size() >= collector_.fed);

  // llhttp never sees more than the limit allows, so the work per head stays bounded.
  const std::size_t stop = std::min(buffer.size(), limits_.max_head_size);
  switch (collector_.execute(buffer, stop)) {
    case head_collector::step::head_end:
      if (auto ec = finish(buffer)) {
        error_ = ec;
        return std::unexpected(error_);
      }
      head_size_ = collector_.fed;
      return head_size_;
    case head_collector::step::need_more:
      if (stop == limits_.max_head_size) {
        error_ = errc::response_too_large;
        return std::unexpected(error_);
      }
      return std::size_t{0};
    case head_collector::step::too_many_fields: error_ = errc::response_too_large; break;
    case head_collector::step::llhttp_error: error_ = errc::invalid_response; break;
  }
  return std::unexpected(error_);
}

std::error_code response_parser::finish(std::string_view buffer) {
  const auto* p = static_cast<const llhttp_t*>(collector_.llhttp());
  auto view = [&](head_collector::span s) { return head_collector::view(buffer, s); };
  response_head& h = head_;

  const unsigned version = collector_.version();
  if (version == 0) {
    return errc::invalid_response;
  }
  h.version = version;
  h.status = p->status_code;
  if (h.status < 100 || h.status > 999) {
    return errc::invalid_response;
  }
  h.reason = trim_ows(view(collector_.status));

  bool other_coding = false;
  for (const auto& raw : collector_.raw_fields) {
    header_field f{view(raw.name), trim_ows(view(raw.value))};
    if (f.name.empty()) {
      return errc::invalid_response;
    }
    if (iequals(f.name, "transfer-encoding")) {
      other_coding = other_coding || !only_chunked(f.value);
    }
    collector_.fields.push_back(f);
  }
  h.headers = collector_.fields;

  const bool has_te = (p->flags & F_TRANSFER_ENCODING) != 0;
  const bool has_cl = (p->flags & F_CONTENT_LENGTH) != 0;
  if (has_te && has_cl) {
    // RFC 9112 section 6.3 lets Transfer-Encoding win, but the pair is how responses are
    // smuggled past a proxy; a client has no reason to guess.
    return errc::invalid_response;
  }
  if (has_te && h.version == 10) {
    // RFC 9112 section 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    return errc::invalid_response;
  }

  // RFC 9112 section 6.3, in its order.
  if (kind_ == request_kind::head || h.informational() || h.status == 204 || h.status == 304) {
    h.framing = body_framing::none;
  } else if (has_te) {
    if ((p->flags & F_CHUNKED) == 0) {
      h.framing = body_framing::until_close;  // final coding is not chunked
    } else if (other_coding) {
      return errc::invalid_response;  // e.g. "gzip, chunked": a transfer coding we do not decode
    } else {
      h.framing = body_framing::chunked;
    }
  } else if (has_cl) {
    h.framing = body_framing::content_length;
    h.content_length = p->content_length;
  } else {
    h.framing = body_framing::until_close;
  }

  const bool persistent =
      h.version == 11 ? (p->flags & F_CONNECTION_CLOSE) == 0 : (p->flags & F_CONNECTION_KEEP_ALIVE) != 0;
  h.keep_alive = persistent && h.framing != body_framing::until_close;
  return {};
}

}  // namespace dusty::http::h1
