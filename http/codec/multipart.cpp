#include <dusty/http/codec/multipart.hpp>

#include <dusty/http/detail/ascii.hpp>
#include <dusty/http/request.hpp>

namespace dusty::http {
namespace {

// Transport padding after a delimiter (RFC 2046 section 5.1.1) is rarely more than a
// space or two; a bound keeps a hostile sender from making us scan forever.
constexpr std::size_t max_padding = 256;

bool is_ctl(unsigned char c) noexcept { return (c < 0x20 && c != '\t') || c == 0x7f; }

// Parses "; key=value; key2="quoted"" (what follows the first token of a header value),
// calling fn(key, value) with quoted strings unescaped. False when malformed.
template <class Fn>
bool parse_params(std::string_view s, Fn&& fn) {
  std::size_t i = 0;
  auto skip_ows = [&] {
    while (i < s.size() && detail::is_ows(s[i])) ++i;
  };
  while (true) {
    skip_ows();
    if (i == s.size()) return true;
    if (s[i] != ';') return false;
    ++i;
    skip_ows();
    if (i == s.size()) return true;  // a trailing ';' is common and harmless
    std::size_t key_start = i;
    while (i < s.size() && detail::is_token_char(s[i])) ++i;
    std::string_view key = s.substr(key_start, i - key_start);
    if (key.empty()) return false;
    skip_ows();
    if (i == s.size() || s[i] != '=') return false;
    ++i;
    skip_ows();
    std::string value;
    if (i < s.size() && s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        char c = s[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && i < s.size()) c = s[i++];
        value += c;
      }
      if (!closed) return false;
    } else {
      std::size_t v = i;
      while (i < s.size() && s[i] != ';' && !detail::is_ows(s[i])) ++i;
      value.assign(s.substr(v, i - v));
    }
    fn(key, std::move(value));
  }
}

// What follows "CRLF--boundary" decides whether it is a delimiter: "--" (the last one),
// or transport padding and CRLF. Anything else is data that happens to contain the
// boundary, which RFC 2046 forbids senders to produce but which costs nothing to accept
// (Go's mime/multipart does the same). 1: a delimiter; 0: cannot tell yet; -1: data.
int delimiter_follows(std::string_view after) noexcept {
  if (after.empty()) return 0;
  if (after[0] == '-') return after.size() < 2 ? 0 : (after[1] == '-' ? 1 : -1);
  std::size_t i = 0;
  while (i < after.size() && i <= max_padding && detail::is_ows(after[i])) ++i;
  if (i > max_padding) return -1;
  if (i == after.size()) return 0;
  if (after[i] != '\r') return -1;
  if (i + 1 == after.size()) return 0;
  return after[i + 1] == '\n' ? 1 : -1;
}

}  // namespace

std::optional<std::string_view> multipart_part::header(std::string_view n) const noexcept {
  for (const auto& [k, v] : headers)
    if (detail::iequals(k, n)) return std::string_view(v);
  return std::nullopt;
}

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  auto semi = content_type.find(';');
  auto type = detail::trim_ows(content_type.substr(0, semi));
  constexpr std::string_view prefix = "multipart/";
  if (type.size() <= prefix.size() || !detail::iequals(type.substr(0, prefix.size()), prefix)) return std::nullopt;
  if (semi == std::string_view::npos) return std::nullopt;
  std::optional<std::string> boundary;
  bool ok = parse_params(content_type.substr(semi), [&](std::string_view key, std::string value) {
    if (detail::iequals(key, "boundary") && !boundary) boundary = std::move(value);
  });
  if (!ok || !boundary || boundary->empty() || boundary->size() > 70) return std::nullopt;
  for (char c : *boundary)
    if (is_ctl(static_cast<unsigned char>(c))) return std::nullopt;
  return boundary;
}

multipart_parser::multipart_parser(std::string_view boundary, const multipart_limits& limits)
    : delimiter_("\r\n--" + std::string(boundary)), limits_(limits) {
  // The first delimiter may open the body with no CRLF before it: pretend there was one.
  buffer_ = "\r\n";
  if (boundary.empty()) {
    state_ = state::failed;
    error_ = errc::invalid_multipart;
  }
}

result<void> multipart_parser::fail(errc e) {
  state_ = state::failed;
  error_ = e;
  buffer_.clear();
  buffer_.shrink_to_fit();
  return std::unexpected(make_error_code(e));
}

result<void> multipart_parser::parse_head(std::string_view head, const multipart_callbacks& cb) {
  part_ = multipart_part{};
  bool disposition = false;
  while (!head.empty()) {
    auto eol = head.find("\r\n");
    auto line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
    if (line.empty()) return fail(errc::invalid_multipart);
    if (detail::is_ows(line.front())) return fail(errc::invalid_multipart);  // obs-fold
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail(errc::invalid_multipart);
    auto name = line.substr(0, colon);
    for (char c : name)
      if (!detail::is_token_char(c)) return fail(errc::invalid_multipart);
    auto value = detail::trim_ows(line.substr(colon + 1));
    for (char c : value)
      if (is_ctl(static_cast<unsigned char>(c))) return fail(errc::invalid_multipart);
    if (part_.headers.size() == limits_.max_head_fields) return fail(errc::invalid_multipart);
    part_.headers.emplace_back(std::string(name), std::string(value));
    if (detail::iequals(name, "content-disposition")) {
      if (disposition) return fail(errc::invalid_multipart);
      disposition = true;
      auto semi = value.find(';');
      auto type = detail::trim_ows(value.substr(0, semi));
      if (type.empty()) return fail(errc::invalid_multipart);
      for (char c : type)
        if (!detail::is_token_char(c)) return fail(errc::invalid_multipart);
      bool ok = semi == std::string_view::npos ||
                parse_params(value.substr(semi), [&](std::string_view key, std::string v) {
                  if (detail::iequals(key, "name"))
                    part_.name = std::move(v);
                  else if (detail::iequals(key, "filename"))
                    part_.filename = std::move(v);
                });
      if (!ok) return fail(errc::invalid_multipart);
    } else if (detail::iequals(name, "content-type")) {
      part_.content_type = std::string(value);
    }
  }
  // RFC 7578 section 4.2: each part must have a Content-Disposition.
  if (!disposition) return fail(errc::invalid_multipart);
  if (cb.on_part) cb.on_part(part_);
  return {};
}

std::size_t multipart_parser::find_delimiter(std::string_view text) const noexcept {
  for (auto at = text.find(delimiter_); at != std::string_view::npos; at = text.find(delimiter_, at + 1))
    if (delimiter_follows(text.substr(at + delimiter_.size())) >= 0) return at;
  return std::string_view::npos;
}

result<void> multipart_parser::feed(std::string_view data, const multipart_callbacks& cb) {
  if (state_ == state::failed) return std::unexpected(make_error_code(error_));
  if (state_ == state::epilogue) return {};
  buffer_.append(data);
  std::string_view buf = buffer_;
  std::size_t pos = 0;
  auto result_ok = true;
  while (result_ok) {
    std::string_view rest = buf.substr(pos);
    switch (state_) {
      case state::preamble: {
        auto at = find_delimiter(rest);
        if (at == std::string_view::npos || delimiter_follows(rest.substr(at + delimiter_.size())) == 0) {
          if (at != std::string_view::npos) {
            pos += at;
            result_ok = false;
            break;
          }
          // Keep only what could be the start of a delimiter split across pieces.
          if (rest.size() >= delimiter_.size()) pos += rest.size() - (delimiter_.size() - 1);
          result_ok = false;
          break;
        }
        pos += at + delimiter_.size();
        state_ = state::after_delimiter;
        break;
      }
      case state::after_delimiter: {
        if (rest.size() < 2) {
          result_ok = false;
          break;
        }
        if (rest[0] == '-' && rest[1] == '-') {
          state_ = state::epilogue;
          pos = buf.size();
          result_ok = false;
          break;
        }
        std::size_t i = 0;
        while (i < rest.size() && detail::is_ows(rest[i])) ++i;
        if (i > max_padding) return fail(errc::invalid_multipart);
        if (i + 2 > rest.size()) {
          result_ok = false;
          break;
        }
        if (rest[i] != '\r' || rest[i + 1] != '\n') return fail(errc::invalid_multipart);
        if (parts_ == limits_.max_parts) return fail(errc::too_many_parts);
        ++parts_;
        pos += i + 2;
        state_ = state::head;
        break;
      }
      case state::head: {
        if (rest.size() < 2) {
          result_ok = false;
          break;
        }
        std::size_t head_end;  // where the blank line starts
        if (rest[0] == '\r' && rest[1] == '\n') {
          head_end = 0;
        } else {
          auto at = rest.find("\r\n\r\n");
          if (at == std::string_view::npos) {
            if (rest.size() > limits_.max_head_size) return fail(errc::part_too_large);
            result_ok = false;
            break;
          }
          head_end = at + 2;
        }
        if (head_end + 2 > limits_.max_head_size) return fail(errc::part_too_large);
        if (auto r = parse_head(rest.substr(0, head_end), cb); !r) return r;
        pos += head_end + 2;
        part_size_ = 0;
        state_ = state::data;
        break;
      }
      case state::data: {
        auto at = find_delimiter(rest);
        bool undecided = at != std::string_view::npos && delimiter_follows(rest.substr(at + delimiter_.size())) == 0;
        std::size_t n = at;
        if (at == std::string_view::npos)
          n = rest.size() >= delimiter_.size() ? rest.size() - (delimiter_.size() - 1) : 0;
        if (n > 0) {
          if (part_size_ + n > limits_.max_part_size) return fail(errc::part_too_large);
          part_size_ += n;
          if (cb.on_data) cb.on_data(rest.substr(0, n));
        }
        if (at == std::string_view::npos || undecided) {
          pos += n;
          result_ok = false;
          break;
        }
        if (cb.on_part_end) cb.on_part_end();
        pos += at + delimiter_.size();
        state_ = state::after_delimiter;
        break;
      }
      case state::epilogue:
      case state::failed: result_ok = false; break;
    }
  }
  if (state_ == state::epilogue) {
    buffer_.clear();
    buffer_.shrink_to_fit();
  } else {
    buffer_.erase(0, pos);
  }
  return {};
}

result<void> multipart_parser::finish() {
  if (state_ == state::failed) return std::unexpected(make_error_code(error_));
  if (state_ != state::epilogue) return fail(errc::invalid_multipart);
  return {};
}

result<void> read_multipart(request& req, multipart_parser& parser, const multipart_callbacks& cb) {
  while (auto piece = req.read_body_some()) {
    if (auto r = parser.feed(*piece, cb); !r) return r;
    if (parser.done()) break;
  }
  return parser.finish();
}

result<std::vector<multipart_field>> parse_multipart(std::string_view body, std::string_view boundary,
                                                     const multipart_limits& limits) {
  std::vector<multipart_field> out;
  multipart_parser parser(boundary, limits);
  multipart_callbacks cb{
      .on_part = [&](const multipart_part& p) { out.push_back({p, {}}); },
      .on_data = [&](std::string_view d) { out.back().data.append(d); },
      .on_part_end = {},
  };
  if (auto r = parser.feed(body, cb); !r) return std::unexpected(r.error());
  if (auto r = parser.finish(); !r) return std::unexpected(r.error());
  return out;
}

}  // namespace dusty::http
