#include "options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace dusty::load {

namespace {

bool parse_unsigned(std::string_view s, unsigned& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

bool parse_positive(std::string_view s, double& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size() && std::isfinite(out) && out > 0;
}

// RFC 9110 token characters: method and field names.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// A field value: visible characters, spaces and tabs (no CR, LF or other controls).
bool is_field_value(std::string_view s) {
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string usage() {
  return "usage: dusty-load -c CONNECTIONS -d DURATION [options] URL\n"
         "\n"
         "  -c, --connections N  connections kept open, spread over the shards (required)\n"
         "  -d, --duration D     how long to measure: 10s, 1m, 500ms (required)\n"
         "  -t, --shards N       threads, each pinned to its own CPU (the i-th CPU this\n"
         "                       process may use). Default: 1\n"
         "      --pipeline N     HTTP/1.1 pipelining: N requests written at once on each\n"
         "                       connection, the next N when all are answered (as wrk's\n"
         "                       pipelining script); with --rate, at most N in flight.\n"
         "                       Default: 1\n"
         "  -R, --rate R         requests per second over all connections: open loop, latency\n"
         "                       measured from each request's scheduled send time (no\n"
         "                       coordinated omission). Default: closed loop, as fast as\n"
         "                       the server answers\n"
         "  -H, --header 'K: V'  add a header field (repeatable; Host replaces the URL's)\n"
         "  -m, --method M       request method. Default: GET\n"
         "      --body FILE      send FILE's contents as the request body (Content-Length)\n"
         "      --timeout D      longest wait to connect and for each response; a request\n"
         "                       without an answer by then counts as a timeout and its\n"
         "                       connection is replaced. Default: 2s\n"
         "      --json           print one JSON object instead of the text report\n"
         "      --cacert FILE    https: trust the CAs in FILE (PEM) instead of the system's\n"
         "  -k, --insecure       https: do not verify the server's certificate (INSECURE)\n"
         "      --no-resume      https: a full handshake on every new connection (default:\n"
         "                       a replaced connection resumes the shard's last session)\n"
         "      --backend B      auto, io_uring or epoll. Default: auto (DUSTY_BACKEND)\n"
         "      --ws             WebSocket echo: each connection upgrades (ws:// or wss://\n"
         "                       URL), then sends binary messages and times their echoes;\n"
         "                       --pipeline and --rate count messages instead of requests\n"
         "      --size N         --ws: bytes per message, 0 to 16777216. Default: 64\n"
         "  -h, --help           this text\n"
         "\n"
         "URL: http[s]://host[:port]/path?query (host: a name, an IPv4 or a [IPv6] literal).\n"
         "With https, each connection starts with a TLS handshake (ALPN http/1.1); with\n"
         "'-H \"Connection: close\"' every request makes a new one, and the report gives the\n"
         "handshakes per second and how many resumed a session.\n"
         "Exit status: 0 after a run (whatever the errors counted), 1 when the URL's host\n"
         "cannot be resolved, 2 for bad flags.\n";
}

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  std::size_t unit_at = 0;
  while (unit_at < text.size() && ((text[unit_at] >= '0' && text[unit_at] <= '9') || text[unit_at] == '.')) ++unit_at;
  std::string_view number = text.substr(0, unit_at), unit = text.substr(unit_at);
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() || end != number.data() + number.size() || !std::isfinite(value))
    return std::nullopt;
  double scale;
  if (unit.empty() || unit == "s")
    scale = 1e9;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "ns")
    scale = 1;
  else if (unit == "m")
    scale = 60e9;
  else if (unit == "h")
    scale = 3600e9;
  else
    return std::nullopt;
  double ns = value * scale;
  if (ns > 1e18) return std::nullopt;  // about 31 years: surely a typo
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(ns)));
}

std::string format_duration(std::chrono::nanoseconds d) {
  auto n = d.count();
  if (n == 0) return "0s";
  if (n % 60'000'000'000 == 0) return std::to_string(n / 60'000'000'000) + "m";
  if (n % 1'000'000'000 == 0) return std::to_string(n / 1'000'000'000) + "s";
  if (n % 1'000'000 == 0) return std::to_string(n / 1'000'000) + "ms";
  if (n % 1'000 == 0) return std::to_string(n / 1'000) + "us";
  return std::to_string(n) + "ns";
}

std::expected<load_options, std::string> parse_options(int argc, char** argv) {
  load_options o;
  bool have_c = false, have_d = false;
  auto fail = [](std::string message) { return std::unexpected(std::move(message)); };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      o.help = true;
      return o;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      if (!o.url.empty()) return fail("more than one URL ('" + o.url + "' and '" + std::string(arg) + "')");
      o.url = arg;
      continue;
    }
    // The flag's name and its value: "--name=value", "--name value", "-xVALUE", "-x value".
    std::string flag;
    std::optional<std::string_view> value;
    if (arg.starts_with("--")) {
      auto eq = arg.find('=');
      flag = arg.substr(0, eq);
      if (eq != std::string_view::npos) value = arg.substr(eq + 1);
    } else {
      flag = arg.substr(0, 2);
      if (arg.size() > 2) value = arg.substr(2);
    }
    if (flag == "--json" || flag == "-k" || flag == "--insecure" || flag == "--no-resume" || flag == "--ws") {
      if (value) return fail(flag + " takes no value");
      if (flag == "--json") o.json = true;
      else if (flag == "--ws") o.ws = true;
      else if (flag == "--no-resume") o.resume = false;
      else o.insecure = true;
      continue;
    }
    static constexpr std::string_view with_value[] = {"-c", "--connections", "-d", "--duration", "-t", "--shards",
                                                      "--threads", "--pipeline", "-R", "--rate", "-H", "--header",
                                                      "-m", "--method", "--body", "--timeout", "--backend",
                                                      "--cacert", "--size"};
    if (std::find(std::begin(with_value), std::end(with_value), flag) == std::end(with_value))
      return fail("unknown flag " + std::string(arg) + " (see --help)");
    if (!value) {
      if (i + 1 >= argc) return fail(flag + ": missing value");
      value = argv[++i];
    }
    std::string_view v = *value;
    std::string quoted = "'" + std::string(v) + "'";
    if (flag == "-c" || flag == "--connections") {
      if (!parse_unsigned(v, o.connections) || o.connections == 0 || o.connections > 1'000'000)
        return fail(flag + ": expected a number of connections from 1 to 1000000, got " + quoted);
      have_c = true;
    } else if (flag == "-d" || flag == "--duration") {
      auto d = parse_duration(v);
      if (!d || d->count() <= 0) return fail(flag + ": expected a duration like 10s, 1m or 500ms, got " + quoted);
      o.duration = *d;
      have_d = true;
    } else if (flag == "-t" || flag == "--shards" || flag == "--threads") {
      if (!parse_unsigned(v, o.shards) || o.shards == 0 || o.shards > 4096)
        return fail(flag + ": expected a number of shards from 1, got " + quoted);
    } else if (flag == "--pipeline") {
      if (!parse_unsigned(v, o.pipeline) || o.pipeline == 0 || o.pipeline > 4096)
        return fail(flag + ": expected a depth from 1 to 4096, got " + quoted);
    } else if (flag == "-R" || flag == "--rate") {
      double r = 0;
      if (!parse_positive(v, r) || r > 1e9) return fail(flag + ": expected requests per second above 0, got " + quoted);
      o.rate = r;
    } else if (flag == "-H" || flag == "--header") {
      auto colon = v.find(':');
      std::string_view name = colon == std::string_view::npos ? v : v.substr(0, colon);
      if (colon == std::string_view::npos || !is_token(name))
        return fail(flag + ": expected 'Name: value', got " + quoted);
      std::string_view field_value = trim(v.substr(colon + 1));
      if (!is_field_value(field_value)) return fail(flag + ": control characters in the value of " + quoted);
      o.headers.emplace_back(std::string(name), std::string(field_value));
    } else if (flag == "-m" || flag == "--method") {
      if (!is_token(v)) return fail(flag + ": expected a method token like GET or POST, got " + quoted);
      o.method = v;
    } else if (flag == "--body") {
      if (v.empty()) return fail(flag + ": expected a file name");
      o.body_file = std::string(v);
    } else if (flag == "--cacert") {
      if (v.empty()) return fail(flag + ": expected a file name");
      o.cacert = std::string(v);
    } else if (flag == "--timeout") {
      auto d = parse_duration(v);
      if (!d || d->count() <= 0) return fail(flag + ": expected a duration like 2s or 500ms, got " + quoted);
      o.timeout = *d;
    } else if (flag == "--size") {
      unsigned n = 0;
      if (!parse_unsigned(v, n) || n > 16u << 20) return fail(flag + ": expected bytes from 0 to 16777216, got " + quoted);
      o.message_size = n;
    } else if (flag == "--backend") {
      auto b = parse_backend_kind(v);
      if (!b) return fail(flag + ": expected auto, io_uring or epoll, got " + quoted);
      o.backend = *b;
    }
  }
  if (!have_c) return fail("-c CONNECTIONS is required (see --help)");
  if (!have_d) return fail("-d DURATION is required (see --help)");
  if (o.url.empty()) return fail("a URL is required (see --help)");
  if (o.ws && (o.body_file || o.method != "GET"))
    return fail("--ws sends WebSocket messages: --method and --body do not apply");
  if (o.connections < o.shards)
    return fail("-c " + std::to_string(o.connections) + " is fewer connections than shards (-t " +
                std::to_string(o.shards) + "): every shard needs one");
  return o;
}

}  // namespace dusty::load
