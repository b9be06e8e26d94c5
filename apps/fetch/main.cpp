// dusty-fetch: a small curl-like client on http::client.
//
//   dusty-fetch http://127.0.0.1:8080/json
//   dusty-fetch -L -o big.bin --timeout 30 http://files.local/big
//   dusty-fetch -v --json '{"name":"x"}' http://api.local/items
//
// The body is streamed to stdout (or -o FILE) as it arrives, never held whole. See
// fetch_flags.hpp for the flags and exit_status.hpp for the exit statuses (--help lists
// both).
#include <dusty/core/fiber.hpp>
#include <dusty/core/log.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/http/client.hpp>
#include <dusty/http/codec/url.hpp>
#include <dusty/net/tls/context.hpp>

#include <server_flags.hpp>

#include "exit_status.hpp"
#include "fetch_flags.hpp"
#include "progress.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace http = dusty::http;
namespace fetch = dusty::apps::fetch;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view app = "dusty-fetch";
constexpr std::string_view user_agent = "dusty-fetch/0.1";

void say(const std::string& message) { std::fprintf(stderr, "%s: %s\n", app.data(), message.c_str()); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool has_header(const fetch::fetch_flags& f, std::string_view name) {
  for (auto& [n, v] : f.headers)
    if (iequals(n, name)) return true;
  return false;
}

/// Writes all of `data` to `fd`; an inherited non-blocking descriptor is waited on.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, -1);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

/// Reads all of `fd` (a file or stdin).
std::optional<std::string> read_all(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0)
      out.append(buf, static_cast<std::size_t>(n));
    else if (n == 0)
      return out;
    else if (errno != EINTR)
      return std::nullopt;
  }
}

/// The request body named by -d/--data-binary/--json, read now (before any connection
/// is made) so that a missing file fails early. The whole body is sent with a
/// Content-Length, which also lets the client repeat it for a 307/308 redirect.
std::optional<std::string> load_body(const fetch::body_flag& b) {
  if (b.source == fetch::body_flag::from::text) return b.value;
  bool from_stdin = b.value == "-";
  int fd = from_stdin ? 0 : ::open(b.value.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    say("cannot read " + b.value + ": " + std::strerror(errno));
    return std::nullopt;
  }
  auto data = read_all(fd);
  int error = errno;
  if (!from_stdin) ::close(fd);
  if (!data) {
    say("cannot read " + (from_stdin ? std::string("stdin") : b.value) + ": " + std::strerror(error));
    return std::nullopt;
  }
  if (b.strip_newlines) std::erase_if(*data, [](char c) { return c == '\r' || c == '\n'; });
  return data;
}

http::fetch_options options_for(const fetch::fetch_flags& f, std::optional<std::string> body) {
  http::fetch_options o;
  o.method = fetch::method_of(f);
  if (o.method == http::method::other) o.method_token = f.method;
  if (!has_header(f, "User-Agent")) o.headers.emplace_back("User-Agent", std::string(user_agent));
  if (f.body && f.body->json && !has_header(f, "Accept")) o.headers.emplace_back("Accept", "application/json");
  if (!has_header(f, "Accept")) o.headers.emplace_back("Accept", "*/*");
  if (f.body && !has_header(f, "Content-Type")) o.headers.emplace_back("Content-Type", f.body->content_type);
  for (auto& h : f.headers) o.headers.push_back(h);
  o.body = std::move(body);
  if (f.connect_timeout) o.connect_timeout = *f.connect_timeout;
  if (f.timeout) o.request_timeout = *f.timeout;
  o.max_redirects = f.follow ? f.max_redirs : 0;
  o.retry = http::retry_policy{.max_retries = f.retry};
  o.max_response_size = f.max_filesize.value_or(std::numeric_limits<std::uint64_t>::max());
  o.decompress = f.compressed;
  return o;
}

/// The request head as -v shows it. The client composes the real head; this repeats
/// the fields it documents adding (Host, Accept-Encoding, Content-Length) and ours.
std::string request_head(const http::url& u, const http::fetch_options& o) {
  std::string method = o.method == http::method::other ? o.method_token : std::string(http::to_string(o.method));
  std::string s = "> " + method + " " + u.target + " HTTP/1.1\n> Host: " + u.authority() + "\n";
  if (o.decompress.value_or(false)) s += "> Accept-Encoding: gzip, deflate\n";
  if (o.body) s += "> Content-Length: " + std::to_string(o.body->size()) + "\n";
  for (auto& [n, v] : o.headers) s += "> " + n + ": " + v + "\n";
  return s + ">\n";
}

std::string status_line(const http::client_response& r) {
  std::string line = r.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  line += std::to_string(r.status_code());
  if (!r.reason().empty()) line += " " + std::string(r.reason());
  return line;
}

/// The response head with each line between `prefix` and `eol`.
std::string response_head(const http::client_response& r, std::string_view prefix, std::string_view eol) {
  std::string s = std::string(prefix) + status_line(r) + std::string(eol);
  for (auto& [n, v] : r.headers()) s += std::string(prefix) + n + ": " + v + std::string(eol);
  return s + std::string(prefix) + std::string(eol);
}

/// The body size the progress meter can count up to: Content-Length, unless the body
/// is decoded on the way (then the decoded size is unknown).
std::optional<std::uint64_t> expected_size(const http::client_response& r, bool decoding) {
  auto cl = r.header("Content-Length");
  if (!cl || (decoding && r.header("Content-Encoding"))) return std::nullopt;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
  if (ec != std::errc() || end != cl->data() + cl->size()) return std::nullopt;
  return n;
}

/// The TLS context for --cacert/--cert/--key/-k, built before the fetch so that a file
/// that cannot be used gets curl's status (58 for --cert/--key, 77 for the CA file).
std::optional<int> build_tls(const fetch::fetch_flags& f, http::client_tls_config& tls) {
  dusty::net::tls::client_config c;
  c.ca_file = f.cacert.value_or("");
  c.cert_file = f.cert.value_or("");
  c.key_file = f.key.value_or("");
  c.insecure = f.insecure;
  c.alpn = {"http/1.1"};
  try {
    tls.context = dusty::net::tls::context::client(c);
    return std::nullopt;
  } catch (const dusty::net::tls::config_error& e) {
    say(e.what());
    bool client_side = !e.file().empty() && (e.file() == c.cert_file || e.file() == c.key_file);
    return client_side ? fetch::exit_tls_client_cert : fetch::exit_tls_ca_file;
  }
}

/// Runs in the runtime's main fiber: one fetch, its body streamed to `out_fd` or the
/// -o file.
int run_fetch(const fetch::fetch_flags& f, std::optional<std::string> body) {
  http::client_config config;
  config.user_agent.clear();  // sent from fetch_options, so that -A replaces it
  if (f.url.starts_with("https://") || f.cacert || f.cert || f.insecure) {
    if (auto status = build_tls(f, config.tls)) return *status;
  }
  http::client client(config);
  auto options = options_for(f, std::move(body));
  if (f.verbose) {
    if (auto u = http::url::parse(f.url)) std::fputs(request_head(*u, options).c_str(), stderr);
  }

  int out_fd = 1;
  dusty::fiber ticker;
  std::shared_ptr<fetch::progress_meter> meter;  // shared with the ticker fiber
  auto stop_progress = [&] {
    if (ticker.joinable()) {
      ticker.cancel();
      // A cancelled main fiber cannot wait (join would throw again): let the ticker end
      // on its own; it holds the meter and stops once the meter is finished.
      if (dusty::cancellation_pending())
        ticker.detach();
      else
        ticker.join();
    }
    if (meter) meter->finish();
    meter.reset();
  };
  auto close_output = [&] {
    if (out_fd > 2) ::close(out_fd);
    out_fd = 1;
  };

  try {
    auto r = client.fetch(f.url, std::move(options));
    if (f.verbose) {
      if (r.redirects() > 0)
        std::fprintf(stderr, "* followed %u redirect%s to %s\n", r.redirects(), r.redirects() == 1 ? "" : "s", r.url().to_string().c_str());
      std::fputs(response_head(r, "< ", "\n").c_str(), stderr);
    }
    // The client returns a redirect as is when it may follow none; curl's -L with
    // --max-redirs 0 calls that too many redirects.
    bool redirect = r.status_code() == 301 || r.status_code() == 302 || r.status_code() == 303 || r.status_code() == 307 ||
                    r.status_code() == 308;
    if (f.follow && f.max_redirs == 0 && redirect && r.header("Location")) {
      say("too many redirects: --max-redirs 0 and " + status_line(r).substr(9) + " to " + std::string(*r.header("Location")));
      return fetch::exit_too_many_redirects;
    }
    if (f.fail && r.status_code() >= 400) {
      say("the server answered " + status_line(r).substr(9) + " (--fail)");
      return fetch::exit_http_error;
    }
    if (f.output) {
      out_fd = ::open(f.output->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
      if (out_fd < 0) {
        say("cannot write " + *f.output + ": " + std::strerror(errno));
        return fetch::exit_write_error;
      }
    }
    std::string sink_name = f.output ? *f.output : "stdout";
    if (f.include && !write_all(1, response_head(r, "", "\r\n"))) {
      say(std::string("cannot write stdout: ") + std::strerror(errno));
      close_output();
      return fetch::exit_write_error;
    }

    if (f.output && !f.silent && ::isatty(2)) {
      meter = std::make_shared<fetch::progress_meter>(expected_size(r, f.compressed));
      ticker = dusty::spawn([meter] {
        try {
          for (;;) {
            dusty::sleep_for(1s);
            if (meter->finished()) return;
            meter->show();
          }
        } catch (const dusty::cancelled_error&) {
        }
      });
    }

    constexpr std::size_t buffer_size = 64 * 1024;
    auto buffer = std::make_unique<char[]>(buffer_size);
    while (std::size_t n = r.read_some({buffer.get(), buffer_size})) {
      if (!write_all(out_fd, {buffer.get(), n})) {
        int error = errno;
        stop_progress();
        say("cannot write " + sink_name + ": " + std::strerror(error));
        close_output();
        return fetch::exit_write_error;
      }
      if (meter) meter->add(n);
    }
    stop_progress();
    if (out_fd > 2 && ::close(std::exchange(out_fd, 1)) != 0) {
      say("cannot write " + sink_name + ": " + std::strerror(errno));
      return fetch::exit_write_error;
    }
    return fetch::exit_ok;
  } catch (const dusty::cancelled_error&) {
    stop_progress();
    close_output();
    say("interrupted");
    return fetch::exit_interrupted;
  } catch (const std::system_error& e) {  // client_error, and timeout_error should one escape
    stop_progress();
    close_output();
    say(e.what());
    return fetch::exit_status_for(e.code());
  }
}

}  // namespace

int main(int argc, char** argv) {
  fetch::fetch_flags flags;
  if (auto error = fetch::parse_fetch_flags(argc, argv, flags)) return dusty::apps::config_failure(app, *error);
  if (flags.help) {
    std::fputs(fetch::fetch_usage().c_str(), stdout);
    return fetch::exit_ok;
  }
  // As curl does, a URL without a scheme is taken as http://.
  if (flags.url.find("://") == std::string::npos) flags.url = "http://" + flags.url;
  if (auto u = http::url::parse(flags.url); !u) {
    say("bad URL '" + flags.url + "': " + u.error().message());
    return u.error() == http::errc::unsupported_scheme ? fetch::exit_failed : fetch::exit_bad_url;
  }
  std::optional<std::string> body;
  if (flags.body) {
    body = load_body(*flags.body);
    if (!body) return fetch::exit_read_error;
  }

  // The runtime's info lines ("received Interrupt, stopping") are noise on a command
  // line; -v or DUSTY_LOG brings them back.
  if (!std::getenv("DUSTY_LOG")) dusty::log::set_level(flags.verbose ? dusty::log::level::info : dusty::log::level::warn);

  try {
    dusty::runtime_config config{.shards = 1};
    // A command-line tool shares the machine: do not pin it to the first CPU.
    config.pin_threads = false;
    dusty::runtime rt(config);
    return rt.run([&] { return run_fetch(flags, std::move(body)); });
  } catch (const dusty::config_error& e) {
    return dusty::apps::config_failure(app, e.what());
  }
}
