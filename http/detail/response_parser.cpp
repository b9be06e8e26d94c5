#include <dusty/http/detail/response_parser.hpp>

#include <dusty/http/detail/ascii.hpp>

#include <llhttp.h>

#include <algorithm>
#include <cassert>
#include <limits>

namespace dusty::http::detail {
namespace {

constexpr std::size_t max_head_limit = std::size_t{1} << 30;

llhttp_t* as_llhttp(void* storage) noexcept { return static_cast<llhttp_t*>(storage); }

// Whether every member of a Transfer-Encoding list is "chunked" (llhttp has checked that
// the last one is). The client decodes no other transfer coding.
bool only_chunked(std::string_view list) noexcept {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto member = trim_ows(list.substr(0, comma));
    if (!member.empty() && !iequals(member, "chunked")) {
      return false;
    }
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return true;
}

}  // namespace

struct response_parser::callbacks {
  static response_parser& self(llhttp_t* p) noexcept { return *static_cast<response_parser*>(p->data); }

  static int fail(llhttp_t* p, errc e) noexcept {
    self(p).callback_error_ = e;
    llhttp_set_error_reason(p, "dusty");
    return HPE_USER;
  }

  static int on_status(llhttp_t* p, const char* at, std::size_t n) noexcept {
    auto& s = self(p);
    if (s.in_ != in_span::status) {
      s.in_ = in_span::status;
      s.status_ = {static_cast<std::uint32_t>(at - s.base_), 0};
    }
    s.extend(s.status_, at, n);
    return 0;
  }

  static int begin_field(llhttp_t* p, std::uint32_t offset) noexcept {
    auto& s = self(p);
    if (s.raw_fields_.size() == s.limits_.max_headers) {
      return fail(p, errc::response_too_large);
    }
    s.in_ = in_span::field;
    s.raw_fields_.push_back({{offset, 0}, {offset, 0}});
    return 0;
  }

  static int on_header_field(llhttp_t* p, const char* at, std::size_t n) noexcept {
    auto& s = self(p);
    if (s.in_ != in_span::field) {
      if (int rc = begin_field(p, static_cast<std::uint32_t>(at - s.base_)); rc != 0) {
        return rc;
      }
    }
    s.extend(s.raw_fields_.back().name, at, n);
    return 0;
  }

  static int on_header_value(llhttp_t* p, const char* at, std::size_t n) noexcept {
    auto& s = self(p);
    auto& value = s.raw_fields_.back().value;
    if (s.in_ != in_span::value) {
      s.in_ = in_span::value;
      value = {static_cast<std::uint32_t>(at - s.base_), 0};
    }
    s.extend(value, at, n);
    return 0;
  }

  static int on_span_complete(llhttp_t* p) noexcept {
    self(p).in_ = in_span::none;
    return 0;
  }

  static int on_header_field_complete(llhttp_t* p) noexcept {
    // An empty name gets no data callback; record the field so finish() rejects it.
    auto& s = self(p);
    if (s.in_ != in_span::field) {
      if (int rc = begin_field(p, 0); rc != 0) {
        return rc;
      }
    }
    s.in_ = in_span::none;
    return 0;
  }

  static int on_headers_complete(llhttp_t*) noexcept { return HPE_PAUSED; }

  static const llhttp_settings_t& settings() noexcept {
    static const llhttp_settings_t instance = [] {
      llhttp_settings_t s;
      llhttp_settings_init(&s);
      s.on_status = on_status;
      s.on_status_complete = on_span_complete;
      s.on_header_field = on_header_field;
      s.on_header_field_complete = on_header_field_complete;
      s.on_header_value = on_header_value;
      s.on_header_value_complete = on_span_complete;
      s.on_headers_complete = on_headers_complete;
      return s;
    }();
    return instance;
  }
};

static_assert(sizeof(llhttp_t) <= 128 && alignof(llhttp_t) <= 8, "grow response_parser::llhttp_storage_");

std::optional<std::string_view> response_head::header(std::string_view name) const noexcept {
  for (const auto& f : headers) {
    if (iequals(f.name, name)) {
      return f.value;
    }
  }
  return std::nullopt;
}

response_parser::response_parser(const response_limits& limits) : limits_{limits} {
  limits_.max_head_size = std::clamp<std::size_t>(limits_.max_head_size, 16, max_head_limit);
  limits_.max_headers = std::min<std::size_t>(limits_.max_headers, std::numeric_limits<std::uint16_t>::max());
  raw_fields_.reserve(limits_.max_headers);
  fields_.reserve(limits_.max_headers);
  reset();
}

void response_parser::reset(request_kind kind) noexcept {
  llhttp_init(as_llhttp(llhttp()), HTTP_RESPONSE, &callbacks::settings());
  kind_ = kind;
  base_ = nullptr;
  fed_ = 0;
  head_size_ = 0;
  error_.clear();
  callback_error_ = errc::invalid_response;
  in_ = in_span::none;
  status_ = {};
  raw_fields_.clear();
  fields_.clear();
  head_ = {};
}

void response_parser::extend(span& s, const char* at, std::size_t size) noexcept {
  s.size = static_cast<std::uint32_t>(at + size - base_) - s.offset;
}

result<std::size_t> response_parser::parse(std::string_view buffer) {
  if (error_) {
    return std::unexpected(error_);
  }
  if (head_size_ != 0) {
    return head_size_;
  }
  assert(buffer.size() >= fed_);

  // llhttp never sees more than the limit allows, so the work per head stays bounded.
  const std::size_t stop = std::min(buffer.size(), limits_.max_head_size);
  auto* p = as_llhttp(llhttp());
  p->data = this;
  base_ = buffer.data();
  const llhttp_errno_t rc = llhttp_execute(p, buffer.data() + fed_, stop - fed_);
  if (rc == HPE_PAUSED) {
    head_size_ = static_cast<std::size_t>(llhttp_get_error_pos(p) - buffer.data());
    fed_ = static_cast<std::uint32_t>(head_size_);
    if (auto ec = finish(buffer)) {
      head_size_ = 0;
      error_ = ec;
      return std::unexpected(error_);
    }
    return head_size_;
  }
  if (rc == HPE_OK) {
    fed_ = static_cast<std::uint32_t>(stop);
    if (stop == limits_.max_head_size) {
      error_ = errc::response_too_large;
      return std::unexpected(error_);
    }
    return std::size_t{0};
  }
  error_ = make_error_code(rc == HPE_USER ? callback_error_ : errc::invalid_response);
  return std::unexpected(error_);
}

std::error_code response_parser::finish(std::string_view buffer) {
  const auto* p = as_llhttp(llhttp());
  auto view = [&](span s) { return buffer.substr(s.offset, s.size); };
  response_head& h = head_;

  if (p->http_major != 1 || p->http_minor > 1) {
    return errc::invalid_response;
  }
  h.version = p->http_minor == 0 ? 10 : 11;
  h.status = p->status_code;
  if (h.status < 100 || h.status > 999) {
    return errc::invalid_response;
  }
  h.reason = trim_ows(view(status_));

  bool other_coding = false;
  for (const auto& raw : raw_fields_) {
    header_field f{view(raw.name), trim_ows(view(raw.value))};
    if (f.name.empty()) {
      return errc::invalid_response;
    }
    if (iequals(f.name, "transfer-encoding")) {
      other_coding = other_coding || !only_chunked(f.value);
    }
    fields_.push_back(f);
  }
  h.headers = fields_;

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
    h.framing = response_framing::none;
  } else if (has_te) {
    if ((p->flags & F_CHUNKED) == 0) {
      h.framing = response_framing::until_close;  // final coding is not chunked
    } else if (other_coding) {
      return errc::invalid_response;  // e.g. "gzip, chunked": a transfer coding we do not decode
    } else {
      h.framing = response_framing::chunked;
    }
  } else if (has_cl) {
    h.framing = response_framing::content_length;
    h.content_length = p->content_length;
  } else {
    h.framing = response_framing::until_close;
  }

  const bool persistent =
      h.version == 11 ? (p->flags & F_CONNECTION_CLOSE) == 0 : (p->flags & F_CONNECTION_KEEP_ALIVE) != 0;
  h.keep_alive = persistent && h.framing != response_framing::until_close;
  return {};
}

}  // namespace dusty::http::detail
