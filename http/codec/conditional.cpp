#include <dusty/http/codec/conditional.hpp>

#include <dusty/http/detail/ascii.hpp>
#include <dusty/http/request.hpp>
#include <dusty/http/response.hpp>

#include <array>
#include <charconv>
#include <ctime>

namespace dusty::http {
namespace {

constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> weekdays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

// etagc (RFC 9110 section 8.8.3): visible ASCII except '"', plus obs-text.
bool is_etagc(unsigned char c) noexcept { return c == 0x21 || (c >= 0x23 && c != 0x7f); }

// Calls fn(tag) for each well-formed member of an entity-tag list; "*" is reported by
// the return value instead. A member ends at the first comma after its closing quote: an
// opaque tag may itself hold commas (etagc).
template <class Fn>
bool for_each_tag(std::string_view list, Fn&& fn) {
  constexpr auto npos = std::string_view::npos;
  if (detail::trim_ows(list) == "*") return true;
  while (!list.empty()) {
    auto at = list.find_first_not_of(" \t");
    if (at == npos) break;
    if (list.substr(at).starts_with("W/")) at += 2;
    auto close = at < list.size() && list[at] == '"' ? list.find('"', at + 1) : at;
    auto comma = close == npos ? npos : list.find(',', close);
    if (auto tag = parse_etag(list.substr(0, comma))) {
      if (fn(*tag)) return false;
    }
    if (comma == npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

int parse_int(std::string_view s) noexcept {
  int v = -1;
  if (s.empty()) return -1;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() ? v : -1;
}

int month_index(std::string_view m) noexcept {
  for (std::size_t i = 0; i < months.size(); ++i)
    if (months[i] == m) return static_cast<int>(i);
  return -1;
}

// "08:49:37"
bool parse_clock(std::string_view s, std::tm& tm) noexcept {
  if (s.size() != 8 || s[2] != ':' || s[5] != ':') return false;
  tm.tm_hour = parse_int(s.substr(0, 2));
  tm.tm_min = parse_int(s.substr(3, 2));
  tm.tm_sec = parse_int(s.substr(6, 2));
  return tm.tm_hour >= 0 && tm.tm_hour < 24 && tm.tm_min >= 0 && tm.tm_min < 60 && tm.tm_sec >= 0 && tm.tm_sec <= 60;
}

}  // namespace

std::optional<entity_tag> parse_etag(std::string_view text) noexcept {
  text = detail::trim_ows(text);
  entity_tag tag;
  if (text.size() >= 2 && text[0] == 'W' && text[1] == '/') {
    tag.weak = true;
    text.remove_prefix(2);
  }
  if (text.size() < 2 || text.front() != '"' || text.back() != '"') return std::nullopt;
  text = text.substr(1, text.size() - 2);
  for (char c : text)
    if (!is_etagc(static_cast<unsigned char>(c))) return std::nullopt;
  tag.opaque = text;
  return tag;
}

std::string make_etag(std::string_view opaque, bool weak) {
  std::string out = weak ? "W/\"" : "\"";
  out.append(opaque);
  out += '"';
  return out;
}

bool strong_match(const entity_tag& a, const entity_tag& b) noexcept {
  return !a.weak && !b.weak && a.opaque == b.opaque;
}

bool weak_match(const entity_tag& a, const entity_tag& b) noexcept { return a.opaque == b.opaque; }

bool if_none_match(std::string_view header_value, std::string_view current) noexcept {
  auto cur = parse_etag(current);
  bool matched = false;
  bool star = for_each_tag(header_value, [&](const entity_tag& t) { return matched = cur && weak_match(t, *cur); });
  return star || matched;
}

bool if_match(std::string_view header_value, std::string_view current) noexcept {
  auto cur = parse_etag(current);
  bool matched = false;
  bool star = for_each_tag(header_value, [&](const entity_tag& t) { return matched = cur && strong_match(t, *cur); });
  return (star && !current.empty()) || matched;
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s) noexcept {
  s = detail::trim_ows(s);
  std::tm tm{};
  auto comma = s.find(',');
  if (comma == 3 && s.size() == 29) {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    if (s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s.substr(25) != " GMT") return std::nullopt;
    tm.tm_mday = parse_int(s.substr(5, 2));
    tm.tm_mon = month_index(s.substr(8, 3));
    tm.tm_year = parse_int(s.substr(12, 4)) - 1900;
    if (!parse_clock(s.substr(17, 8), tm)) return std::nullopt;
  } else if (comma != std::string_view::npos && comma > 3) {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
    auto rest = s.substr(comma + 1);
    if (rest.size() != 23 || rest[0] != ' ' || rest[3] != '-' || rest[7] != '-' || rest[10] != ' ' ||
        rest.substr(19) != " GMT")
      return std::nullopt;
    tm.tm_mday = parse_int(rest.substr(1, 2));
    tm.tm_mon = month_index(rest.substr(4, 3));
    int yy = parse_int(rest.substr(8, 2));
    if (yy < 0) return std::nullopt;
    // RFC 9110 section 5.6.7: a two-digit year more than 50 years ahead is in the past.
    tm.tm_year = yy < 70 ? yy + 100 : yy;
    if (!parse_clock(rest.substr(11, 8), tm)) return std::nullopt;
  } else if (s.size() == 24) {
    // asctime: "Sun Nov  6 08:49:37 1994"
    if (s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[19] != ' ') return std::nullopt;
    tm.tm_mon = month_index(s.substr(4, 3));
    auto day = s.substr(8, 2);
    if (day[0] == ' ') day.remove_prefix(1);
    tm.tm_mday = parse_int(day);
    if (!parse_clock(s.substr(11, 8), tm)) return std::nullopt;
    tm.tm_year = parse_int(s.substr(20, 4)) - 1900;
  } else {
    return std::nullopt;
  }
  if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_year < 0) return std::nullopt;
  std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  // system_clock counts nanoseconds in 64 bits, up to the year 2262: a later date (valid
  // syntax) is clamped to the latest it can hold, where from_time_t would overflow.
  constexpr auto latest = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::time_point::max());
  if (t > latest.time_since_epoch().count()) return latest;
  return std::chrono::system_clock::from_time_t(t);
}

std::string format_http_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  auto two = [](int v) { return std::string{static_cast<char>('0' + v / 10), static_cast<char>('0' + v % 10)}; };
  std::string out;
  out.reserve(29);
  out.append(weekdays[static_cast<std::size_t>(tm.tm_wday)]).append(", ").append(two(tm.tm_mday)).append(" ");
  out.append(months[static_cast<std::size_t>(tm.tm_mon)]).append(" ").append(std::to_string(tm.tm_year + 1900));
  out.append(" ").append(two(tm.tm_hour)).append(":").append(two(tm.tm_min)).append(":").append(two(tm.tm_sec));
  out.append(" GMT");
  return out;
}

precondition evaluate_preconditions(const request& req, const validators& current) {
  using std::chrono::floor;
  using std::chrono::seconds;
  bool get_or_head = req.method() == method::get || req.method() == method::head;
  if (auto im = req.header("If-Match")) {
    // The handler answers for an existing representation, so "*" holds even without an ETag.
    if (detail::trim_ows(*im) != "*" && !if_match(*im, current.etag)) return precondition::failed;
  } else if (auto ius = req.header("If-Unmodified-Since"); ius && current.last_modified) {
    if (auto d = parse_http_date(*ius); d && floor<seconds>(*current.last_modified) > floor<seconds>(*d))
      return precondition::failed;
  }
  if (auto inm = req.header("If-None-Match")) {
    if (if_none_match(*inm, current.etag)) return get_or_head ? precondition::not_modified : precondition::failed;
  } else if (auto ims = req.header("If-Modified-Since"); ims && get_or_head && current.last_modified) {
    if (auto d = parse_http_date(*ims); d && floor<seconds>(*current.last_modified) <= floor<seconds>(*d))
      return precondition::not_modified;
  }
  return precondition::proceed;
}

bool answer_conditional(const request& req, response& res, const validators& current) {
  switch (evaluate_preconditions(req, current)) {
    case precondition::proceed: return false;
    case precondition::not_modified:
      res.status = 304;
      // Section 15.4.5: a 304 carries the validators a 200 would have carried.
      if (!current.etag.empty()) res.header("ETag", current.etag);
      if (current.last_modified) res.header("Last-Modified", format_http_date(*current.last_modified));
      res.body = std::string_view();
      return true;
    case precondition::failed:
      res.status = 412;
      res.body = std::string_view();
      return true;
  }
  return false;
}

}  // namespace dusty::http
