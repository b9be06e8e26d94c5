#include <dusty/http/h1/head_collector.hpp>

#include <dusty/http/detail/ascii.hpp>

#include <llhttp.h>

#include <algorithm>
#include <limits>

namespace dusty::http::h1 {

using detail::iequals;
using detail::trim_ows;
namespace {

using span = head_collector::span;
using in_span = head_collector::in_span;

llhttp_t* as_llhttp(void* storage) noexcept { return static_cast<llhttp_t*>(storage); }

head_collector& self(llhttp_t* p) noexcept { return *static_cast<head_collector*>(p->data); }

// Extends `s` to end with this piece, first starting it at the piece if the previous
// callback was for another span: llhttp may deliver one span in several pieces.
int record(head_collector& c, in_span which, span& s, const char* at, std::size_t n) noexcept {
  if (c.in != which) {
    c.in = which;
    s.offset = static_cast<std::uint32_t>(at - c.base);
  }
  s.size = static_cast<std::uint32_t>(at + n - c.base) - s.offset;
  return 0;
}

int begin_field(head_collector& c, std::uint32_t offset) noexcept {
  if (c.raw_fields.size() == c.max_headers) {
    return HPE_USER;  // execute() reports too_many_fields
  }
  c.in = in_span::field;
  c.raw_fields.push_back({{offset, 0}, {offset, 0}});
  return 0;
}

int on_method(llhttp_t* p, const char* at, std::size_t n) noexcept {
  auto& c = self(p);
  return record(c, in_span::method, c.method, at, n);
}

int on_url(llhttp_t* p, const char* at, std::size_t n) noexcept {
  auto& c = self(p);
  return record(c, in_span::url, c.url, at, n);
}

int on_status(llhttp_t* p, const char* at, std::size_t n) noexcept {
  auto& c = self(p);
  return record(c, in_span::status, c.status, at, n);
}

int on_header_field(llhttp_t* p, const char* at, std::size_t n) noexcept {
  auto& c = self(p);
  if (c.in != in_span::field) {
    if (int rc = begin_field(c, static_cast<std::uint32_t>(at - c.base)); rc != 0) {
      return rc;
    }
  }
  return record(c, in_span::field, c.raw_fields.back().name, at, n);
}

int on_header_value(llhttp_t* p, const char* at, std::size_t n) noexcept {
  auto& c = self(p);
  return record(c, in_span::value, c.raw_fields.back().value, at, n);
}

int on_span_complete(llhttp_t* p) noexcept {
  self(p).in = in_span::none;
  return 0;
}

int on_header_field_complete(llhttp_t* p) noexcept {
  // An empty name gets no data callback; record the field so the parser rejects it.
  auto& c = self(p);
  if (c.in != in_span::field) {
    if (int rc = begin_field(c, 0); rc != 0) {
      return rc;
    }
  }
  c.in = in_span::none;
  return 0;
}

int on_headers_complete(llhttp_t*) noexcept { return HPE_PAUSED; }

// One table for both message types: llhttp calls on_method and on_url only for requests,
// on_status only for responses.
const llhttp_settings_t& settings() noexcept {
  static const llhttp_settings_t instance = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_method = on_method;
    s.on_method_complete = on_span_complete;
    s.on_url = on_url;
    s.on_url_complete = on_span_complete;
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

}  // namespace

static_assert(sizeof(llhttp_t) <= sizeof(head_collector::llhttp_storage) && alignof(llhttp_t) <= 8,
              "grow head_collector::llhttp_storage");

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

head_collector::head_collector(std::size_t max) : max_headers{std::min<std::size_t>(max, std::numeric_limits<std::uint16_t>::max())} {
  reserve();
}

void head_collector::reset(message_type type) noexcept {
  llhttp_init(as_llhttp(llhttp()), type == message_type::request ? HTTP_REQUEST : HTTP_RESPONSE, &settings());
  base = nullptr;
  fed = 0;
  in = in_span::none;
  method = url = status = {};
  raw_fields.clear();
  fields.clear();
}

void head_collector::reserve() {
  raw_fields.reserve(max_headers);
  fields.reserve(max_headers);
}

void head_collector::release() noexcept {
  std::vector<raw_field>().swap(raw_fields);
  std::vector<header_field>().swap(fields);
}

unsigned head_collector::version() const noexcept {
  const auto* p = static_cast<const llhttp_t*>(llhttp());
  if (p->http_major != 1 || p->http_minor > 1) {
    return 0;
  }
  return p->http_minor == 0 ? 10 : 11;
}

}  // namespace dusty::http::h1
