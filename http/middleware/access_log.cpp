#include <dusty/http/middleware/access_log.hpp>

#include <dusty/core/error.hpp>
#include <dusty/http/status.hpp>

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <exception>
#include <memory>
#include <string>

namespace dusty::http {
namespace {

void append_number(std::string& out, std::uint64_t n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

// Escapes what could end the quoted field or the line, or confuse a terminal.
void append_escaped(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else {
      out += c;
    }
  }
}

void write_stderr(std::string_view line) noexcept {
  try {
    std::string out;
    out.reserve(line.size() + 1);
    out.append(line).push_back('\n');
    // One write(2) per line; the loop only continues after a signal or a partial write
    // (a full pipe), which lines under PIPE_BUF never see.
    for (std::size_t done = 0; done < out.size();) {
      ssize_t n = ::write(STDERR_FILENO, out.data() + done, out.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  } catch (...) {
  }
}

struct outcome {
  unsigned status;
  bool body_known;
};

// What the client will get when the chain ended with an exception.
outcome failed_outcome(const response& res, std::exception_ptr error) {
  if (res.head_sent()) return {res.status, false};
  try {
    std::rethrow_exception(error);
  } catch (const status_error& e) {
    return {e.status(), false};
  } catch (const client_gone&) {
    return {499, false};
  } catch (const timeout_error&) {
    return {503, false};
  } catch (const cancelled_error&) {
    // Inside the handler's deadline scope an expiry is still a cancelled_error; the
    // connection answers it with 503.
    return {503, false};
  } catch (...) {
    return {500, false};
  }
}

std::string format_line(const request& req, const response& res, outcome out, std::chrono::microseconds took,
                        bool log_query) {
  std::string line;
  line.reserve(160);
  if (const auto& remote = req.remote_address())
    line += remote->to_string();
  else
    line += '-';
  line += " \"";
  append_escaped(line, req.method_name());
  line += ' ';
  append_escaped(line, log_query ? req.target() : req.path());
  line.append(" ").append(req.protocol()).append("\" ");
  append_number(line, out.status);
  line += ' ';
  if (!out.body_known || res.streaming()) {
    line += '-';
  } else if (req.method() == method::head || !status_allows_body(out.status)) {
    line += '0';
  } else {
    append_number(line, res.used_writer() ? res.writer_body().size() : res.body.size());
  }
  line += ' ';
  append_number(line, static_cast<std::uint64_t>(took.count()));
  line += "us \"";
  if (auto ua = req.header("User-Agent"))
    append_escaped(line, *ua);
  else
    line += '-';
  line += '"';
  return line;
}

}  // namespace

middleware access_log(access_log_config config) {
  auto cfg = std::make_shared<const access_log_config>(std::move(config));
  return [cfg](request& req, response& res, const next& next) {
    auto start = std::chrono::steady_clock::now();
    auto emit = [&](outcome out) {
      auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
      // A failing log must not fail the request, nor hide the handler's exception.
      try {
        auto line = format_line(req, res, out, took, cfg->log_query);
        if (cfg->sink)
          cfg->sink(line);
        else
          write_stderr(line);
      } catch (...) {
      }
    };
    try {
      next();
    } catch (...) {
      emit(failed_outcome(res, std::current_exception()));
      throw;
    }
    emit({res.status, true});
  };
}

}  // namespace dusty::http
