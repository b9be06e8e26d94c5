#include <dusty/http/codec/url.hpp>

#include <dusty/http/detail/ascii.hpp>

#include <charconv>

namespace dusty::http {
namespace {

std::unexpected<std::error_code> bad(errc e = errc::invalid_url) { return std::unexpected(make_error_code(e)); }

bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Control bytes, space and DEL can be neither sent nor guessed at: the URL is refused.
bool is_forbidden(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f;
}

// Bytes RFC 3986 leaves out of a URL but that real URLs carry anyway (non-ASCII, "{|}"):
// sent percent-encoded, as browsers do.
bool needs_encoding(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x80) return true;
  switch (c) {
    case '"': case '<': case '>': case '\\': case '^': case '`': case '{': case '|': case '}': return true;
    default: return false;
  }
}

bool is_host_char(char c) noexcept {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '-': case '.': case '_': case '~': case '%':
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',': case ';': case '=':
      return true;
    default: return false;
  }
}

// The parts of a URI reference (RFC 3986 section 4.1); the fragment is dropped.
struct parts {
  bool has_scheme = false;
  std::string_view scheme;
  bool has_authority = false;
  std::string_view authority;
  std::string_view path;
  bool has_query = false;
  std::string_view query;
};

// RFC 3986 appendix B, the regular expression spelled out.
parts split(std::string_view s) {
  parts p;
  if (auto hash = s.find('#'); hash != std::string_view::npos) s = s.substr(0, hash);
  if (auto colon = s.find(':'); colon != std::string_view::npos && colon > 0 && is_alpha(s[0])) {
    auto end = s.find_first_of("/?");
    if (end == std::string_view::npos || colon < end) {
      bool ok = true;
      for (char c : s.substr(0, colon)) {
        ok = ok && (is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.');
      }
      if (ok) {
        p.has_scheme = true;
        p.scheme = s.substr(0, colon);
        s.remove_prefix(colon + 1);
      }
    }
  }
  if (s.starts_with("//")) {
    s.remove_prefix(2);
    auto end = s.find_first_of("/?");
    p.has_authority = true;
    p.authority = s.substr(0, end);
    s = end == std::string_view::npos ? std::string_view{} : s.substr(end);
  }
  auto q = s.find('?');
  p.path = s.substr(0, q);
  if (q != std::string_view::npos) {
    p.has_query = true;
    p.query = s.substr(q + 1);
  }
  return p;
}

// RFC 3986 section 5.2.4.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../") || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);
      auto slash = out.rfind('/');
      out.resize(slash == std::string::npos ? 0 : slash);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      auto next = in.find('/', 1);
      out.append(in.substr(0, next));
      in = next == std::string_view::npos ? std::string_view{} : in.substr(next);
    }
  }
  return out;
}

// Appends path or query bytes to `out`, encoding what needs it; false on a forbidden byte.
bool append_encoded(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (char c : s) {
    if (is_forbidden(c)) return false;
    if (needs_encoding(c)) {
      auto u = static_cast<unsigned char>(c);
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return true;
}

}  // namespace

result<url> url::parse(std::string_view text) {
  parts p = split(text);
  if (!p.has_scheme) return bad();
  url u;
  u.scheme.reserve(p.scheme.size());
  for (char c : p.scheme) u.scheme += detail::ascii_lower(c);
  if (u.scheme != "http" && u.scheme != "https") return bad(errc::unsupported_scheme);
  if (!p.has_authority) return bad();

  std::string_view auth = p.authority;
  if (auto at = auth.rfind('@'); at != std::string_view::npos) {
    u.userinfo = std::string(auth.substr(0, at));
    for (char c : u.userinfo) {
      if (is_forbidden(c) || needs_encoding(c)) return bad();
    }
    auth.remove_prefix(at + 1);
  }
  std::string_view host, port;
  if (auth.starts_with('[')) {
    auto close = auth.find(']');
    if (close == std::string_view::npos) return bad();
    host = auth.substr(1, close - 1);
    auto rest = auth.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return bad();
      port = rest.substr(1);
    }
    if (host.find(':') == std::string_view::npos) return bad();
    for (char c : host) {
      if (!(detail::hex_value(c) >= 0 || c == ':' || c == '.' || c == '%' || is_alpha(c) || is_digit(c))) return bad();
    }
  } else {
    auto colon = auth.find(':');
    host = auth.substr(0, colon);
    if (colon != std::string_view::npos) port = auth.substr(colon + 1);
    for (char c : host) {
      if (!is_host_char(c)) return bad();
    }
  }
  if (host.empty()) return bad();
  u.host.reserve(host.size());
  for (char c : host) u.host += detail::ascii_lower(c);

  if (port.empty()) {
    u.port = u.scheme == "https" ? 443 : 80;  // "http://x:/" is allowed (RFC 3986 section 3.2.3)
  } else {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535 || !is_digit(port[0])) {
      return bad();
    }
    u.port = static_cast<std::uint16_t>(value);
  }

  u.target.reserve(p.path.size() + p.query.size() + 2);
  if (p.path.empty()) u.target = "/";
  if (!append_encoded(u.target, p.path)) return bad();
  if (p.has_query) {
    u.target += '?';
    if (!append_encoded(u.target, p.query)) return bad();
  }
  // What was cut off as the fragment must still be URL bytes.
  if (auto hash = text.find('#'); hash != std::string_view::npos) {
    for (char c : text.substr(hash + 1)) {
      if (is_forbidden(c)) return bad();
    }
  }
  return u;
}

result<url> url::resolve(std::string_view reference) const {
  for (char c : reference) {
    if (is_forbidden(c)) return bad();
  }
  parts r = split(reference);
  // The target URL is `prefix` followed by the reference's own path (dot segments
  // removed) and query.
  auto with_path_and_query = [&r](std::string& prefix) {
    prefix += remove_dot_segments(r.path);
    if (r.has_query) {
      prefix += '?';
      prefix += r.query;
    }
    return parse(prefix);
  };
  if (r.has_scheme) {
    // RFC 3986 section 5.2.2 (strict): the reference stands alone.
    std::string s(r.scheme);
    s += ':';
    if (r.has_authority) {
      s += "//";
      s += r.authority;
    }
    return with_path_and_query(s);
  }

  std::string s = scheme + "://";
  if (r.has_authority) {
    s += r.authority;
    return with_path_and_query(s);
  }
  if (!userinfo.empty()) {
    s += userinfo;
    s += '@';
  }
  s += authority();
  if (r.path.empty()) {
    s += path();
    if (r.has_query) {
      s += '?';
      s += r.query;
    } else if (target.find('?') != std::string::npos) {
      s += '?';
      s += query();
    }
    return parse(s);
  }
  if (r.path.starts_with('/')) {
    s += remove_dot_segments(r.path);
  } else {
    // Merge (section 5.2.3): the base always has an authority and a non-empty path.
    std::string_view base = path();
    std::string merged(base.substr(0, base.rfind('/') + 1));
    merged += r.path;
    s += remove_dot_segments(merged);
  }
  if (r.has_query) {
    s += '?';
    s += r.query;
  }
  return parse(s);
}

std::string url::authority() const {
  std::string out;
  const bool v6 = host.find(':') != std::string::npos;
  out.reserve(host.size() + 8);
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
  if (!is_default_port()) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

std::string_view url::path() const noexcept {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view url::query() const noexcept {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

std::string url::to_string() const { return scheme + "://" + authority() + target; }

}  // namespace dusty::http
