#include <dusty/http/h1/request_parser.hpp>

#include <dusty/http/detail/ascii.hpp>
#include <dusty/http/h1/head_collector_execute.hpp>

#include <llhttp.h>

#include <algorithm>
#include <cassert>
#include <cstring>

namespace dusty::http::h1 {

using detail::iequals;
using detail::is_ows;
using detail::trim_ows;
namespace {

constexpr std::size_t max_head_limit = std::size_t{1} << 30;

const llhttp_t* as_llhttp(const void* storage) noexcept { return static_cast<const llhttp_t*>(storage); }

method from_llhttp(std::uint8_t m) noexcept {
  switch (m) {
    case HTTP_GET: return method::get;
    case HTTP_HEAD: return method::head;
    case HTTP_POST: return method::post;
    case HTTP_PUT: return method::put;
    case HTTP_PATCH: return method::patch;
    case HTTP_DELETE: return method::delete_;
    case HTTP_OPTIONS: return method::options;
    case HTTP_CONNECT: return method::connect;
    case HTTP_TRACE: return method::trace;
    default: return method::other;
  }
}

errc from_llhttp_errno(const llhttp_t& p) noexcept {
  switch (static_cast<llhttp_errno_t>(p.error)) {
    case HPE_INVALID_METHOD: return errc::invalid_method;
    case HPE_INVALID_URL: return errc::invalid_target;
    case HPE_INVALID_CONSTANT:
    case HPE_INVALID_VERSION: return errc::invalid_version;
    case HPE_PAUSED_H2_UPGRADE: return errc::version_not_supported;
    case HPE_INVALID_HEADER_TOKEN:
    case HPE_UNEXPECTED_SPACE: return errc::invalid_header;
    case HPE_CR_EXPECTED:
    case HPE_LF_EXPECTED:
    case HPE_STRICT: return errc::invalid_line_ending;
    case HPE_INVALID_CONTENT_LENGTH: return errc::invalid_content_length;
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      // llhttp uses this code for both smuggling shapes; the flags tell them apart.
      return (p.flags & F_TRANSFER_ENCODING) != 0 ? errc::content_length_with_transfer_encoding
                                                  : errc::duplicate_content_length;
    case HPE_INVALID_TRANSFER_ENCODING: return errc::invalid_transfer_encoding;
    default: return errc::bad_request;
  }
}

void split_target(request_head& h) noexcept {
  std::string_view t = h.target;
  if (t.starts_with('/')) {
    auto end = t.find_first_of("?#");
    h.path = t.substr(0, end);
  } else if (auto scheme = t.find("://"); scheme != std::string_view::npos) {
    // absolute-form (RFC 9112 section 3.2.2): route on its path.
    auto rest = t.substr(scheme + 3);
    auto path_start = rest.find_first_of("/?#");
    if (path_start == std::string_view::npos || rest[path_start] != '/') {
      h.path = "/";
      t = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
    } else {
      t = rest.substr(path_start);
      h.path = t.substr(0, t.find_first_of("?#"));
    }
  } else if (t == "*") {
    h.path = t;
    return;
  } else {
    return;  // authority-form: no path
  }
  auto q = t.find('?');
  if (q != std::string_view::npos) {
    auto query = t.substr(q + 1);
    h.query = query.substr(0, query.find('#'));
  }
}

}  // namespace

request_parser::request_parser(const parser_limits& limits) : limits_{limits}, collector_{limits.max_headers} {
  limits_.max_head_size = std::min(limits_.max_head_size, max_head_limit);
  limits_.max_request_line = std::min(limits_.max_request_line, limits_.max_head_size);
  limits_.max_headers = collector_.max_headers;
  reset();
}

void request_parser::reset() noexcept {
  collector_.reset(head_collector::message_type::request);
  scanned_ = line_start_ = 0;
  request_line_done_ = head_end_seen_ = false;
  head_size_ = 0;
  error_.clear();
  head_base_ = nullptr;
  head_ = {};
}

void request_parser::release_storage() noexcept {
  reset();
  collector_.release();
}

// Checks line endings, line folding and the size limits ahead of llhttp, which in 8.1
// accepts a bare LF after the request line and after the last field, and accepts obs-fold.
// Returns the first violation, if any; `stop` is how far llhttp may read: up to the
// violation, so whichever of the two checks fails first in byte order reports.
std::error_code request_parser::scan(std::string_view buffer, std::size_t& stop) {
  constexpr std::size_t none = std::string_view::npos;
  const char* const data = buffer.data();
  const std::size_t end = buffer.size();
  std::size_t i = scanned_;
  stop = end;
  // One line (or the rest of one) per turn, with memchr doing the byte work.
  while (i < end && !head_end_seen_) {
    const std::size_t limit = std::max(i, std::min(end, limits_.max_head_size));
    const auto* lf_at = static_cast<const char*>(std::memchr(data + i, '\n', limit - i));
    const std::size_t lf = lf_at != nullptr ? static_cast<std::size_t>(lf_at - data) : none;
    const auto* cr_at = static_cast<const char*>(std::memchr(data + i, '\r', std::min(lf, limit) - i));
    const std::size_t cr = cr_at != nullptr ? static_cast<std::size_t>(cr_at - data) : none;
    // Whether a CR ending the buffer is bare depends on the next byte: hold it back from
    // llhttp too, so the error found does not depend on where the input was split.
    const bool cr_pending = cr != none && cr + 1 == end;
    const std::size_t content_end = std::min({cr, lf, limit});

    std::size_t bad = none;
    errc why = errc::bad_request;
    auto consider = [&](std::size_t at, errc e) {
      if (at < bad) {
        bad = at;
        why = e;
      }
    };
    if (request_line_done_ && i == line_start_ && i < limit && is_ows(data[i])) {
      consider(i, errc::obsolete_line_folding);
    }
    if (!request_line_done_ && line_start_ + limits_.max_request_line < content_end) {
      consider(line_start_ + limits_.max_request_line, errc::uri_too_long);
    }
    if (cr != none && !cr_pending && data[cr + 1] != '\n') {
      consider(cr, errc::invalid_line_ending);
    }
    if (lf != none && (lf == 0 || data[lf - 1] != '\r')) {
      consider(lf, errc::invalid_line_ending);
    }
    if (lf == none && limit < end) {
      consider(limit, request_line_done_ ? errc::header_too_large : errc::uri_too_long);
    }
    if (bad != none) {
      stop = bad;
      return why;
    }
    if (lf == none) {
      i = cr_pending ? cr : end;
      stop = i;
      break;
    }
    const bool empty_line = lf - 1 == line_start_;
    if (empty_line && request_line_done_) {
      head_end_seen_ = true;
    } else if (!empty_line) {
      request_line_done_ = true;
    }
    i = lf + 1;
    line_start_ = static_cast<std::uint32_t>(i);
  }
  scanned_ = static_cast<std::uint32_t>(i);
  return {};
}

void request_parser::rebase(const char* copy) noexcept {
  const char* old = head_base_;
  std::size_t size = head_size_;
  auto move = [&](std::string_view& v) {
    if (v.data() >= old && v.data() + v.size() <= old + size) v = {copy + (v.data() - old), v.size()};
  };
  move(head_.method_token);
  move(head_.target);
  move(head_.path);
  move(head_.query);
  for (auto& f : collector_.fields) {
    move(f.name);
    move(f.value);
  }
  head_base_ = copy;
}

result<std::size_t> request_parser::parse(std::string_view buffer) {
  if (error_) {
    return std::unexpected(error_);
  }
  if (head_size_ != 0) {
    return head_size_;
  }
  assert(buffer.size() >= collector_.fed);
  if (collector_.raw_fields.capacity() < collector_.max_headers) [[unlikely]] {  // after release_storage()
    collector_.reserve();
  }

  std::size_t stop = buffer.size();
  const std::error_code scan_error = scan(buffer, stop);
  switch (collector_.execute(buffer, stop)) {
    case head_collector::step::head_end:
      if (auto ec = finish(buffer)) {
        error_ = ec;
        return std::unexpected(error_);
      }
      head_base_ = buffer.data();
      head_size_ = collector_.fed;
      return head_size_;
    case head_collector::step::need_more:
      if (scan_error) {
        error_ = scan_error;
        return std::unexpected(error_);
      }
      return std::size_t{0};
    case head_collector::step::too_many_fields: error_ = make_error_code(errc::too_many_headers); break;
    case head_collector::step::llhttp_error:
      error_ = make_error_code(from_llhttp_errno(*as_llhttp(collector_.llhttp())));
      break;
  }
  return std::unexpected(error_);
}

std::error_code request_parser::finish(std::string_view buffer) {
  const auto* p = as_llhttp(collector_.llhttp());
  auto view = [&](head_collector::span s) { return head_collector::view(buffer, s); };
  request_head& h = head_;

  const unsigned version = collector_.version();
  if (version == 0) {
    return errc::version_not_supported;
  }
  h.set_version(version);
  h.method = from_llhttp(p->method);
  h.method_token = view(collector_.method);
  h.target = view(collector_.url);
  split_target(h);
  if (h.method == method::connect) {
    // CONNECT takes the authority form only (RFC 9112 section 3.2.3).
    if (h.target.starts_with('/') || h.target == "*" || h.target.find("://") != std::string_view::npos) {
      return errc::invalid_target;
    }
  } else if (h.target == "*" && h.method != method::options) {
    return errc::invalid_target;
  }

  std::size_t hosts = 0;
  bool other_coding = false;
  for (const auto& raw : collector_.raw_fields) {
    header_field f{view(raw.name), trim_ows(view(raw.value))};
    if (f.name.empty()) {
      return errc::invalid_header;
    }
    if (iequals(f.name, "host")) {
      ++hosts;
    } else if (iequals(f.name, "transfer-encoding")) {
      other_coding = other_coding || !only_chunked(f.value);
    } else if (iequals(f.name, "expect") && h.version == 11) {
      if (!iequals(f.value, "100-continue")) {
        return errc::unsupported_expectation;
      }
      h.expect_continue = true;
    }
    collector_.fields.push_back(f);
  }
  h.headers = collector_.fields;
  if (hosts > 1 || (hosts == 0 && h.version == 11 && limits_.require_host)) {
    return errc::invalid_host;
  }

  if ((p->flags & F_TRANSFER_ENCODING) != 0) {
    // RFC 9112 section 6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
    if (h.version == 10 || (p->flags & F_CHUNKED) == 0) {
      return errc::invalid_transfer_encoding;
    }
    if (other_coding) {
      return errc::unsupported_transfer_encoding;
    }
    h.framing = body_framing::chunked;
  } else if ((p->flags & F_CONTENT_LENGTH) != 0 && p->content_length > 0) {
    h.framing = body_framing::content_length;
    h.content_length = p->content_length;
  }
  h.keep_alive = llhttp_should_keep_alive(p) != 0;
  h.upgrade = p->upgrade != 0;
  return {};
}

}  // namespace dusty::http::h1
