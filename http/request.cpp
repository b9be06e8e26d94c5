#include <dusty/http/request.hpp>

#include <dusty/http/codec/cookie.hpp>
#include <dusty/http/detail/ascii.hpp>

#include <cstring>
#include <memory_resource>
#include <string>

namespace dusty::http {

std::string_view request::param(std::string_view name) const noexcept {
  return find_param(params_, name).value_or(std::string_view());
}

std::optional<std::string_view> request::cookie(std::string_view name) const noexcept {
  // HTTP/1.1 clients send one Cookie field (RFC 6265 section 5.4), but look at all.
  for (const auto& f : head_->headers) {
    if (detail::iequals(f.name, "cookie")) {
      if (auto v = find_cookie(f.value, name)) return v;
    }
  }
  return std::nullopt;
}

const query_params& request::query() {
  if (!query_parsed_) {
    if (auto r = query_.parse(head_->query, max_query_params_); !r)
      throw status_error(400, "bad query string: " + r.error().message());
    query_parsed_ = true;
  }
  return query_;
}

std::optional<std::string_view> request::read_body_some() {
  if (!body_source_) return std::nullopt;
  auto piece = body_source_->read_some();
  if (piece.empty()) return std::nullopt;
  return piece;
}

std::string_view request::body() {
  if (body_read_) return body_;
  body_read_ = true;
  if (!body_source_) return body_;
  // Pieces are only valid until the next read, so each is copied out as it comes. With
  // a Content-Length the destination is sized once (the decoder never exceeds it), after
  // the first read: that is where a length above max_body_size fails (413), before any
  // memory is taken for it.
  auto first = body_source_->read_some();
  if (auto length = body_source_->length()) {
    char* out = static_cast<char*>(arena_->allocate(*length, 1));
    std::size_t n = 0;
    for (auto piece = first; !piece.empty(); piece = body_source_->read_some()) {
      std::memcpy(out + n, piece.data(), piece.size());
      n += piece.size();
    }
    return body_ = std::string_view(out, n);
  }
  std::pmr::string all(arena_);
  for (auto piece = first; !piece.empty(); piece = body_source_->read_some()) all.append(piece);
  char* out = static_cast<char*>(arena_->allocate(all.size(), 1));
  std::memcpy(out, all.data(), all.size());
  return body_ = std::string_view(out, all.size());
}

}  // namespace dusty::http
