#include <dusty/http/codec/cookie_jar.hpp>

#include <arpa/inet.h>

#include <algorithm>

namespace dusty::http {

namespace {

bool is_ip_literal(const std::string& host) noexcept {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// RFC 6265 section 5.1.3. Both strings are lower-case already.
bool domain_match(const std::string& host, std::string_view domain) noexcept {
  if (host == domain) {
    return true;
  }
  return host.size() > domain.size() && host.ends_with(domain) && host[host.size() - domain.size() - 1] == '.' &&
         !is_ip_literal(host);
}

// RFC 6265 section 5.1.4.
std::string default_path(std::string_view uri_path) {
  if (uri_path.empty() || uri_path.front() != '/') {
    return "/";
  }
  auto last = uri_path.rfind('/');
  if (last == 0) {
    return "/";
  }
  return std::string(uri_path.substr(0, last));
}

// RFC 6265 section 5.1.4: path-match.
bool path_match(std::string_view request_path, std::string_view cookie_path) noexcept {
  if (request_path == cookie_path) {
    return true;
  }
  if (!request_path.starts_with(cookie_path)) {
    return false;
  }
  return cookie_path.ends_with('/') || request_path[cookie_path.size()] == '/';
}

std::string_view request_path(const url& u) noexcept {
  std::string_view p = u.path();
  return p.empty() ? std::string_view("/") : p;
}

}  // namespace

void cookie_jar::store(const url& request_url, std::string_view set_cookie_value, clock::time_point now) {
  auto parsed = set_cookie::parse(set_cookie_value);
  if (!parsed) {
    return;
  }
  set_cookie& c = *parsed;
  entry e;
  e.name = std::move(c.name);
  e.value = std::move(c.value);
  e.created = now;
  e.secure = c.secure;

  // Max-Age wins over Expires (section 5.3 step 3); 0 or less expires the cookie now.
  if (c.max_age) {
    if (c.max_age->count() <= 0) {
      e.expires = clock::time_point::min();
    } else {
      auto room = std::chrono::duration_cast<std::chrono::seconds>(clock::time_point::max() - now);
      e.expires = *c.max_age >= room ? clock::time_point::max() : now + *c.max_age;
    }
  } else if (c.expires) {
    e.expires = *c.expires;
  }

  const std::string& host = request_url.host;
  if (!c.domain.empty()) {
    if (!domain_match(host, c.domain)) {
      return;
    }
    e.host_only = false;
    e.domain = std::move(c.domain);
  } else {
    e.host_only = true;
    e.domain = host;
  }
  e.path = c.path.empty() ? default_path(request_url.path()) : std::move(c.path);

  // A Secure cookie from a plain-http answer could be planted by anyone on the path
  // (RFC 6265bis section 5.7 step 8).
  if (e.secure && request_url.scheme != "https") {
    return;
  }

  bool expired = e.expires && *e.expires <= now;
  auto old = std::find_if(cookies_.begin(), cookies_.end(), [&](const entry& x) {
    return x.name == e.name && x.domain == e.domain && x.path == e.path;
  });
  if (old != cookies_.end()) {
    if (expired) {
      cookies_.erase(old);
      return;
    }
    // Replacement keeps the creation time (section 5.3 step 11.3) and the slot, so the
    // order among equally old cookies stays stable.
    e.created = old->created;
    *old = std::move(e);
    return;
  }
  if (!expired) {
    cookies_.push_back(std::move(e));
  }
}

std::string cookie_jar::cookie_header(const url& request_url, clock::time_point now) {
  std::erase_if(cookies_, [&](const entry& x) { return x.expires && *x.expires <= now; });

  std::string_view path = request_path(request_url);
  bool https = request_url.scheme == "https";
  std::vector<const entry*> chosen;
  for (const entry& x : cookies_) {
    bool host_ok = x.host_only ? request_url.host == x.domain : domain_match(request_url.host, x.domain);
    if (host_ok && path_match(path, x.path) && (!x.secure || https)) {
      chosen.push_back(&x);
    }
  }
  // Section 5.4 step 2: longer paths first, then earlier creation times first.
  std::stable_sort(chosen.begin(), chosen.end(), [](const entry* a, const entry* b) {
    if (a->path.size() != b->path.size()) {
      return a->path.size() > b->path.size();
    }
    return a->created < b->created;
  });
  std::string out;
  for (const entry* x : chosen) {
    if (!out.empty()) {
      out += "; ";
    }
    out += x->name;
    out += '=';
    out += x->value;
  }
  return out;
}

}  // namespace dusty::http
