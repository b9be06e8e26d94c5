#include <dusty/http/codec/cookie.hpp>

#include <dusty/http/detail/ascii.hpp>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace dusty::http {

namespace {

// Cookie headers separate pairs with "; " (RFC 6265 section 4.2.1); senders also use a
// bare ';', so whitespace around each pair is dropped.
template <typename Fn>
bool visit_cookies(std::string_view header, Fn&& fn) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view pair = detail::trim_ows(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    std::string_view name = detail::trim_ows(pair.substr(0, eq));
    std::string_view value = detail::trim_ows(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (fn(name, value)) {
      return true;
    }
  }
  return false;
}

// cookie-octet of RFC 6265 section 4.1.1: US-ASCII without CTLs, whitespace, DQUOTE,
// comma, semicolon and backslash.
constexpr bool is_cookie_octet(char ch) noexcept {
  auto c = static_cast<unsigned char>(ch);
  return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
         (c >= 0x5d && c <= 0x7e);
}

// av-octet: any CHAR except CTLs and ';' (for Domain and Path values).
constexpr bool is_av_octet(char ch) noexcept {
  auto c = static_cast<unsigned char>(ch);
  return c >= 0x20 && c < 0x7f && c != ';';
}

constexpr std::string_view day_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void append_2(std::string& out, unsigned v) {
  out += static_cast<char>('0' + v / 10 % 10);
  out += static_cast<char>('0' + v % 10);
}

// IMF-fixdate (RFC 9110 section 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
void append_imf_fixdate(std::string& out, std::chrono::system_clock::time_point tp) {
  using namespace std::chrono;
  auto secs = floor<seconds>(tp);
  auto days = floor<std::chrono::days>(secs);
  year_month_day ymd{days};
  hh_mm_ss<seconds> hms{secs - days};
  weekday wd{days};
  out += day_names[wd.c_encoding()];
  out += ", ";
  append_2(out, static_cast<unsigned>(ymd.day()));
  out += ' ';
  out += month_names[static_cast<unsigned>(ymd.month()) - 1];
  out += ' ';
  int y = std::clamp(static_cast<int>(ymd.year()), 0, 9999);
  append_2(out, static_cast<unsigned>(y / 100));
  append_2(out, static_cast<unsigned>(y % 100));
  out += ' ';
  append_2(out, static_cast<unsigned>(hms.hours().count()));
  out += ':';
  append_2(out, static_cast<unsigned>(hms.minutes().count()));
  out += ':';
  append_2(out, static_cast<unsigned>(hms.seconds().count()));
  out += " GMT";
}

// --- RFC 6265 section 5.1.1: the cookie-date algorithm -----------------------------------

constexpr bool is_date_delimiter(unsigned char c) noexcept {
  return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) || (c >= 0x5b && c <= 0x60) ||
         (c >= 0x7b && c <= 0x7e);
}

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Reads 1..max digits from the front of `s` ("min" digits at least); -1 if absent.
int take_digits(std::string_view& s, std::size_t min, std::size_t max) noexcept {
  std::size_t n = 0;
  int v = 0;
  while (n < s.size() && n < max && is_digit(s[n])) {
    v = v * 10 + (s[n] - '0');
    ++n;
  }
  if (n < min) {
    return -1;
  }
  s.remove_prefix(n);
  return v;
}

// The grammar's "( non-digit *OCTET )" tail: either nothing, or a non-digit next.
bool digit_run_ends(std::string_view rest) noexcept { return rest.empty() || !is_digit(rest[0]); }

std::optional<std::chrono::system_clock::time_point> parse_cookie_date(std::string_view text) {
  int hour = -1, minute = -1, second = -1, day = -1, month = -1, year = -1;
  while (!text.empty()) {
    std::size_t i = 0;
    while (i < text.size() && is_date_delimiter(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    std::size_t j = i;
    while (j < text.size() && !is_date_delimiter(static_cast<unsigned char>(text[j]))) {
      ++j;
    }
    std::string_view token = text.substr(i, j - i);
    text.remove_prefix(j);
    if (token.empty()) {
      continue;
    }
    if (hour < 0) {
      std::string_view t = token;
      int h = take_digits(t, 1, 2);
      if (h >= 0 && !t.empty() && t[0] == ':') {
        t.remove_prefix(1);
        int m = take_digits(t, 1, 2);
        if (m >= 0 && !t.empty() && t[0] == ':') {
          t.remove_prefix(1);
          int s = take_digits(t, 1, 2);
          if (s >= 0 && digit_run_ends(t)) {
            hour = h, minute = m, second = s;
            continue;
          }
        }
      }
    }
    if (day < 0) {
      std::string_view t = token;
      int d = take_digits(t, 1, 2);
      if (d >= 0 && digit_run_ends(t)) {
        day = d;
        continue;
      }
    }
    if (month < 0 && token.size() >= 3) {
      bool found = false;
      for (int m = 0; m < 12; ++m) {
        if (detail::iequals(token.substr(0, 3), month_names[m])) {
          month = m + 1;
          found = true;
          break;
        }
      }
      if (found) {
        continue;
      }
    }
    if (year < 0) {
      std::string_view t = token;
      int y = take_digits(t, 2, 4);
      if (y >= 0 && digit_run_ends(t)) {
        year = y;
        continue;
      }
    }
  }
  if (year >= 70 && year <= 99) {
    year += 1900;
  } else if (year >= 0 && year <= 69) {
    year += 2000;
  }
  if (hour < 0 || day < 0 || month < 0 || year < 0) {
    return std::nullopt;
  }
  if (day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                     std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) {
    return std::nullopt;  // 31 Feb and the like
  }
  // system_clock counts nanoseconds in 64 bits: about 1677 to 2262. Dates outside are
  // clamped rather than overflowed (a cookie "until 9999" lives as long as any can).
  using tp = system_clock::time_point;
  sys_seconds when = sys_days{ymd} + hours{hour} + minutes{minute} + seconds{second};
  if (when >= floor<seconds>(tp::max())) {
    return tp::max();
  }
  if (when <= ceil<seconds>(tp::min())) {
    return tp::min();
  }
  return tp{duration_cast<tp::duration>(when.time_since_epoch())};
}

}  // namespace

void for_each_cookie(std::string_view cookie_header,
                     const std::function<void(std::string_view name, std::string_view value)>& fn) {
  visit_cookies(cookie_header, [&](std::string_view n, std::string_view v) {
    fn(n, v);
    return false;
  });
}

std::optional<std::string_view> find_cookie(std::string_view cookie_header, std::string_view name) noexcept {
  std::optional<std::string_view> found;
  visit_cookies(cookie_header, [&](std::string_view n, std::string_view v) {
    if (n == name) {
      found = v;
      return true;
    }
    return false;
  });
  return found;
}

std::string set_cookie::to_string() const {
  if (name.empty() || !std::all_of(name.begin(), name.end(), detail::is_token_char)) {
    throw std::invalid_argument("dusty::http::set_cookie: cookie name is not a token: " + name);
  }
  std::string_view v = value;
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    v = v.substr(1, v.size() - 2);
  }
  if (!std::all_of(v.begin(), v.end(), is_cookie_octet)) {
    throw std::invalid_argument("dusty::http::set_cookie: cookie value has a byte a cookie cannot hold");
  }
  if (!std::all_of(domain.begin(), domain.end(), is_av_octet) ||
      !std::all_of(path.begin(), path.end(), is_av_octet)) {
    throw std::invalid_argument("dusty::http::set_cookie: Domain or Path has a control byte or ';'");
  }
  std::string out;
  out.reserve(name.size() + value.size() + 96);
  out += name;
  out += '=';
  out += value;
  if (expires) {
    out += "; Expires=";
    append_imf_fixdate(out, *expires);
  }
  if (max_age) {
    out += "; Max-Age=";
    out += std::to_string(std::max<std::chrono::seconds::rep>(max_age->count(), 0));
  }
  if (!domain.empty()) {
    out += "; Domain=";
    out += domain;
  }
  if (!path.empty()) {
    out += "; Path=";
    out += path;
  }
  if (secure) {
    out += "; Secure";
  }
  if (http_only) {
    out += "; HttpOnly";
  }
  switch (same_site) {
    case http::same_site::strict: out += "; SameSite=Strict"; break;
    case http::same_site::lax: out += "; SameSite=Lax"; break;
    case http::same_site::none: out += "; SameSite=None"; break;
    case http::same_site::unset: break;
  }
  return out;
}

// RFC 6265 section 5.2. "Whitespace" there is space and tab (WSP).
result<set_cookie> set_cookie::parse(std::string_view header_value) {
  auto semi = header_value.find(';');
  std::string_view pair = header_value.substr(0, semi);
  std::string_view attrs = semi == std::string_view::npos ? std::string_view{} : header_value.substr(semi);
  auto eq = pair.find('=');
  if (eq == std::string_view::npos) {
    return std::unexpected(make_error_code(errc::invalid_header));
  }
  set_cookie c;
  c.name = detail::trim_ows(pair.substr(0, eq));
  c.value = detail::trim_ows(pair.substr(eq + 1));
  if (c.name.empty()) {
    return std::unexpected(make_error_code(errc::invalid_header));
  }
  while (!attrs.empty()) {
    attrs.remove_prefix(1);  // the ';'
    auto next = attrs.find(';');
    std::string_view av = attrs.substr(0, next);
    attrs = next == std::string_view::npos ? std::string_view{} : attrs.substr(next);
    auto aeq = av.find('=');
    std::string_view aname = detail::trim_ows(av.substr(0, aeq));
    std::string_view aval = aeq == std::string_view::npos ? std::string_view{} : detail::trim_ows(av.substr(aeq + 1));
    // Later attributes of the same name win (section 5.3 uses the last one).
    if (detail::iequals(aname, "expires")) {
      if (auto t = parse_cookie_date(aval)) {
        c.expires = *t;
      }
    } else if (detail::iequals(aname, "max-age")) {
      std::string_view digits = aval;
      bool negative = !digits.empty() && digits[0] == '-';
      if (negative) {
        digits.remove_prefix(1);
      }
      if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) {
        continue;
      }
      // Saturate absurd values instead of failing: far future is what the server meant.
      constexpr std::int64_t cap = std::int64_t{1} << 40;
      std::int64_t n = 0;
      for (char d : digits) {
        n = std::min<std::int64_t>(n * 10 + (d - '0'), cap);
      }
      c.max_age = std::chrono::seconds{negative ? -n : n};
    } else if (detail::iequals(aname, "domain")) {
      std::string_view d = aval;
      if (!d.empty() && d.front() == '.') {
        d.remove_prefix(1);
      }
      c.domain.clear();
      for (char ch : d) {
        c.domain += detail::ascii_lower(ch);
      }
    } else if (detail::iequals(aname, "path")) {
      // A Path that does not start with '/' means the default path.
      c.path = !aval.empty() && aval.front() == '/' ? std::string(aval) : std::string();
    } else if (detail::iequals(aname, "secure")) {
      c.secure = true;
    } else if (detail::iequals(aname, "httponly")) {
      c.http_only = true;
    } else if (detail::iequals(aname, "samesite")) {
      if (detail::iequals(aval, "strict")) {
        c.same_site = http::same_site::strict;
      } else if (detail::iequals(aval, "lax")) {
        c.same_site = http::same_site::lax;
      } else if (detail::iequals(aval, "none")) {
        c.same_site = http::same_site::none;
      } else {
        c.same_site = http::same_site::unset;
      }
    }
  }
  return c;
}

}  // namespace dusty::http
