#pragma once
// The command line of dusty-fetch, parsed into fetch_flags without any I/O (a body named
// with @FILE is read later, by load_body). Header-only so that tests can parse argument
// lists directly.
//
// Flags follow curl's spelling and meaning where curl has the same flag; a value may
// follow its flag as the next argument, after '=' (--timeout=2), or, for one-letter
// flags, directly (-XPUT, -ofile).
#include <dusty/http/method.hpp>

#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dusty::apps::fetch {

/// The request body given by -d, --data-binary or --json.
struct body_flag {
  enum class from { text, file };
  from source = from::text;
  /// The body itself (from::text) or the file to read it from; "-" is stdin.
  std::string value;
  /// -d @FILE: drop CR and LF bytes, as curl does.
  bool strip_newlines = false;
  /// Content-Type sent unless a -H gives one.
  std::string content_type;
  /// --json also sets Accept: application/json unless a -H gives one.
  bool json = false;
};

struct fetch_flags {
  std::string url;
  /// -X: the method token as given; empty: GET, POST with a body, HEAD with -I.
  std::string method;
  /// -H fields in order; a value given as "Name;" is empty.
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<body_flag> body;
  /// -o: write the body here instead of stdout ("-o -" is stdout).
  std::optional<std::string> output;
  bool follow = false;      ///< -L
  unsigned max_redirs = 50; ///< --max-redirs; only with -L. Default: 50, like curl.
  bool include = false;     ///< -i: status line and header fields before the body.
  bool head = false;        ///< -I: HEAD request, implies -i.
  bool verbose = false;     ///< -v: request and response heads on stderr.
  bool compressed = false;  ///< --compressed: ask for gzip/deflate and decode.
  bool fail = false;        ///< --fail: exit 22 on 4xx/5xx without writing the body.
  bool silent = false;      ///< -s: no progress meter.
  std::optional<std::chrono::milliseconds> timeout;          ///< --timeout/--max-time: the whole transfer.
  std::optional<std::chrono::milliseconds> connect_timeout;  ///< --connect-timeout
  unsigned retry = 0;                                        ///< --retry
  std::optional<std::uint64_t> max_filesize;                 ///< --max-filesize: most body bytes.
  std::optional<std::string> cacert;  ///< --cacert: PEM CAs to trust instead of the system's.
  std::optional<std::string> cert;    ///< --cert: client certificate chain (PEM), with --key.
  std::optional<std::string> key;     ///< --key: private key of --cert (PEM).
  bool insecure = false;              ///< -k/--insecure: skip certificate verification. INSECURE.
  bool help = false;                                         ///< -h/--help
};

inline std::string fetch_usage() {
  return "usage: dusty-fetch [options] URL\n"
         "Fetches URL over HTTP/1.1 and writes the response body to stdout.\n"
         "\n"
         "  -X, --request METHOD    method to send. Default: GET, or POST with a body\n"
         "  -H, --header 'K: V'     add a header field (repeatable); 'K;' sends an empty one\n"
         "  -A, --user-agent UA     User-Agent. Default: dusty-fetch/<version>\n"
         "  -d, --data DATA         POST DATA as application/x-www-form-urlencoded;\n"
         "                          @FILE reads it from FILE (without CR/LF), @- from stdin\n"
         "      --data-binary DATA  as -d, but @FILE is sent byte for byte\n"
         "      --json JSON         POST JSON (or @FILE) with Content-Type and Accept\n"
         "                          application/json\n"
         "  -o, --output FILE       write the body to FILE; shows progress when stderr is a\n"
         "                          terminal\n"
         "  -L, --location          follow redirects (301/302/303 turn into GET)\n"
         "      --max-redirs N      redirects followed at most with -L. Default: 50\n"
         "  -i, --include           write the status line and header fields before the body\n"
         "  -I, --head              send HEAD and show the response head\n"
         "  -v, --verbose           show request (\"> \") and response (\"< \") heads on stderr\n"
         "      --compressed        ask for gzip/deflate and decode the body\n"
         "  -m, --timeout, --max-time S   give up after S seconds (fractions allowed)\n"
         "      --connect-timeout S       give up connecting after S seconds. Default: 10\n"
         "      --retry N           retry N times on connection errors and 502/503/504\n"
         "                          (idempotent methods only). Default: 0\n"
         "      --max-filesize N    fail when the body is larger than N bytes\n"
         "  -f, --fail              exit 22 on a 4xx/5xx status, without the body\n"
         "  -s, --silent            no progress meter (errors are still shown; -S is accepted)\n"
         "      --cacert FILE       trust the CAs in FILE (PEM) instead of the system's\n"
         "      --cert FILE         present the client certificate in FILE (PEM; needs --key)\n"
         "      --key FILE          the private key of --cert (PEM)\n"
         "  -k, --insecure          do not verify the server's certificate or name (INSECURE)\n"
         "  -h, --help              this text\n"
         "\n"
         "Exit status (curl's numbers):\n"
         "   0 success\n"
         "   1 unsupported URL scheme, or another failure\n"
         "   2 bad command line\n"
         "   3 malformed URL\n"
         "   6 host name not resolved\n"
         "   7 connection refused or host unreachable\n"
         "   8 invalid HTTP response\n"
         "  22 HTTP status 400 or above with --fail\n"
         "  23 writing the output failed\n"
         "  26 reading a @FILE body failed\n"
         "  28 timeout\n"
         "  35 TLS handshake failed\n"
         "  47 too many redirects\n"
         "  56 the connection broke while sending or receiving (TLS: also an alert\n"
         "     from the server, or a close without close_notify in the middle of a body)\n"
         "  58 the client certificate or key (--cert/--key) cannot be used\n"
         "  60 the server's certificate did not verify, or is for another host\n"
         "  61 a compressed body does not decode\n"
         "  63 the body is larger than --max-filesize\n"
         "  77 the CA file (--cacert, or the system's) cannot be used\n"
         " 130 interrupted\n";
}

namespace detail {

/// "1.5" seconds, positive, at most a day.
inline std::optional<std::chrono::milliseconds> parse_seconds(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v <= 0 || v > 86400) return std::nullopt;
  auto ms = static_cast<std::int64_t>(std::ceil(v * 1000));
  return std::chrono::milliseconds(ms);
}

template <class N>
bool parse_number(std::string_view s, N& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

inline bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos)) return false;
  return true;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace detail

/// Parses argv into `f`; returns an error message for stderr (exit status 2), or nothing.
/// --help sets f.help and stops parsing.
inline std::optional<std::string> parse_fetch_flags(int argc, const char* const* argv, fetch_flags& f) {
  // Bundled one-letter switches are split first: "-sSL" -> "-s" "-S" "-L", "-iofile" ->
  // "-i" "-ofile". Only switches bundle; a flag with a value ends the bundle.
  std::vector<std::string> args;
  bool operands = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (operands || a.size() < 3 || a[0] != '-' || a[1] == '-') {
      operands = operands || a == "--";
      args.emplace_back(a);
      continue;
    }
    std::size_t j = 1;
    while (j < a.size() && std::string_view("LiIvfsShk").find(a[j]) != std::string_view::npos) args.push_back({'-', a[j++]});
    if (j < a.size()) args.push_back("-" + std::string(a.substr(j)));
  }
  argc = static_cast<int>(args.size()) + 1;

  bool have_url = false;
  bool only_operands = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = args[static_cast<std::size_t>(i) - 1];
    if (only_operands || arg.size() < 2 || arg[0] != '-') {
      if (have_url) return "more than one URL ('" + f.url + "', '" + std::string(arg) + "'); dusty-fetch takes one";
      f.url = arg;
      have_url = true;
      continue;
    }
    if (arg == "--") {
      only_operands = true;
      continue;
    }

    // Split the flag from an attached value: --name=value, -Xvalue.
    std::string_view name = arg;
    std::optional<std::string_view> attached;
    if (arg.starts_with("--")) {
      if (auto eq = arg.find('='); eq != std::string_view::npos) {
        name = arg.substr(0, eq);
        attached = arg.substr(eq + 1);
      }
    } else if (arg.size() > 2) {
      name = arg.substr(0, 2);
      attached = arg.substr(2);
    }
    auto flag_is = [&](std::string_view s, std::string_view l = {}) { return name == s || (!l.empty() && name == l); };
    auto boolean = [&](bool& b) -> std::optional<std::string> {
      if (attached) return std::string(name) + " takes no value (got '" + std::string(*attached) + "')";
      b = true;
      return std::nullopt;
    };
    std::string_view value;
    auto need_value = [&]() -> std::optional<std::string> {
      if (attached) {
        value = *attached;
        return std::nullopt;
      }
      if (i + 1 >= argc) return std::string(name) + ": missing value";
      ++i;
      value = args[static_cast<std::size_t>(i) - 1];
      return std::nullopt;
    };
    auto set_body = [&](std::string_view kind, bool strip, std::string content_type, bool json) -> std::optional<std::string> {
      if (auto e = need_value()) return e;
      if (f.body) return std::string(kind) + ": only one of -d, --data-binary and --json may be given, once";
      body_flag b;
      if (value.starts_with("@")) {
        b.source = body_flag::from::file;
        b.value = value.substr(1);
        b.strip_newlines = strip;
        if (b.value.empty()) return std::string(kind) + ": @ needs a file name (or @- for stdin)";
      } else {
        b.value = value;
      }
      b.content_type = std::move(content_type);
      b.json = json;
      f.body = std::move(b);
      return std::nullopt;
    };

    std::optional<std::string> error;
    if (flag_is("-h", "--help")) {
      f.help = true;
      return std::nullopt;
    } else if (flag_is("-X", "--request")) {
      if (!(error = need_value()) && !detail::is_token(value)) error = "-X: '" + std::string(value) + "' is not a method token";
      if (!error) f.method = value;
    } else if (flag_is("-H", "--header")) {
      if (!(error = need_value())) {
        auto colon = value.find(':');
        if (colon == std::string_view::npos && value.ends_with(";")) {
          auto field = value.substr(0, value.size() - 1);
          if (!detail::is_token(field)) error = "-H: '" + std::string(field) + "' is not a header field name";
          else f.headers.emplace_back(std::string(field), std::string());
        } else if (colon == std::string_view::npos) {
          error = "-H: expected 'Name: value', got '" + std::string(value) + "'";
        } else {
          auto field = value.substr(0, colon);
          auto v = detail::trim(value.substr(colon + 1));
          if (!detail::is_token(field)) error = "-H: '" + std::string(field) + "' is not a header field name";
          else if (v.empty()) error = "-H: '" + std::string(field) + ":' has no value (use '" + std::string(field) + ";' to send an empty one)";
          else if (v.find_first_of("\r\n") != std::string_view::npos) error = "-H: the value of " + std::string(field) + " has a line break";
          else f.headers.emplace_back(std::string(field), std::string(v));
        }
      }
    } else if (flag_is("-A", "--user-agent")) {
      if (!(error = need_value())) f.headers.emplace_back("User-Agent", std::string(value));
    } else if (flag_is("-d", "--data")) {
      error = set_body("-d", true, "application/x-www-form-urlencoded", false);
    } else if (flag_is("--data-binary")) {
      error = set_body("--data-binary", false, "application/x-www-form-urlencoded", false);
    } else if (flag_is("--json")) {
      error = set_body("--json", false, "application/json", true);
    } else if (flag_is("-o", "--output")) {
      if (!(error = need_value())) {
        if (value.empty()) error = "-o: empty file name";
        else if (value == "-") f.output.reset();  // stdout, as with curl
        else f.output = std::string(value);
      }
    } else if (flag_is("-L", "--location")) {
      error = boolean(f.follow);
    } else if (flag_is("--max-redirs")) {
      if (!(error = need_value()) && !detail::parse_number(value, f.max_redirs))
        error = "--max-redirs: expected a number, got '" + std::string(value) + "'";
    } else if (flag_is("-i", "--include")) {
      error = boolean(f.include);
    } else if (flag_is("-I", "--head")) {
      error = boolean(f.head);
      f.include = true;
    } else if (flag_is("-v", "--verbose")) {
      error = boolean(f.verbose);
    } else if (flag_is("--compressed")) {
      error = boolean(f.compressed);
    } else if (flag_is("-f", "--fail")) {
      error = boolean(f.fail);
    } else if (flag_is("-s", "--silent")) {
      error = boolean(f.silent);
    } else if (flag_is("-S", "--show-error")) {
      bool ignored = false;  // errors are always shown; accepted for curl's "-sS"
      error = boolean(ignored);
    } else if (flag_is("-m", "--timeout") || flag_is("--max-time")) {
      if (!(error = need_value())) {
        f.timeout = detail::parse_seconds(value);
        if (!f.timeout) error = std::string(name) + ": expected seconds above 0 (e.g. 2 or 0.5), got '" + std::string(value) + "'";
      }
    } else if (flag_is("--connect-timeout")) {
      if (!(error = need_value())) {
        f.connect_timeout = detail::parse_seconds(value);
        if (!f.connect_timeout) error = "--connect-timeout: expected seconds above 0 (e.g. 2 or 0.5), got '" + std::string(value) + "'";
      }
    } else if (flag_is("--cacert") || flag_is("--cert") || flag_is("--key")) {
      if (!(error = need_value())) {
        if (value.empty()) error = std::string(name) + ": empty file name";
        else (name == "--cacert" ? f.cacert : name == "--cert" ? f.cert : f.key) = std::string(value);
      }
    } else if (flag_is("-k", "--insecure")) {
      error = boolean(f.insecure);
    } else if (flag_is("--retry")) {
      if (!(error = need_value()) && !detail::parse_number(value, f.retry))
        error = "--retry: expected a number, got '" + std::string(value) + "'";
    } else if (flag_is("--max-filesize")) {
      std::uint64_t n = 0;
      if (!(error = need_value()) && !detail::parse_number(value, n))
        error = "--max-filesize: expected a number of bytes, got '" + std::string(value) + "'";
      if (!error) f.max_filesize = n;
    } else {
      error = "unknown flag " + std::string(arg.starts_with("--") ? name : arg) + " (see --help)";
    }
    if (error) return error;
  }
  if (!have_url) return "no URL given (see --help)";
  if (f.cert.has_value() != f.key.has_value()) return "--cert and --key go together: give both";
  if (f.head && f.body) return "-I sends HEAD, which has no body: drop -d/--data-binary/--json";
  return std::nullopt;
}

/// The method to send and whether it is one of the enumerated ones.
inline http::method method_of(const fetch_flags& f) {
  if (!f.method.empty()) return http::method_from_string(f.method);
  if (f.head) return http::method::head;
  return f.body ? http::method::post : http::method::get;
}

}  // namespace dusty::apps::fetch
