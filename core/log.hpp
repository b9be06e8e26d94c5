#pragma once
// A minimal, thread-safe logger to stderr. Each line is written with one write(2) and
// prefixed with the level and the shard, so lines from different shards never interleave.
// Arguments are concatenated: log::warn("accept failed on fd ", fd, ": ", ec).
#include <charconv>
#include <concepts>
#include <string>
#include <string_view>
#include <system_error>

namespace dusty::log {

enum class level { debug, info, warn, error, off };

/// Lines below this level are dropped. Default: info, or DUSTY_LOG=debug|info|warn|error|off.
void set_level(level l) noexcept;
level current_level() noexcept;

/// Writes one finished line. Prefer the level functions below.
void write(level l, std::string_view line) noexcept;

namespace detail {
inline void append(std::string& s, std::string_view v) { s += v; }
inline void append(std::string& s, const char* v) { s += v; }
inline void append(std::string& s, const std::string& v) { s += v; }
inline void append(std::string& s, char v) { s += v; }
inline void append(std::string& s, const std::error_code& ec) { s += ec.message(); }
template <class T>
  requires(std::integral<T> || std::floating_point<T>)
void append(std::string& s, T v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  s.append(buf, r.ptr);
}
template <class... A>
void emit(level l, const A&... a) noexcept {
  if (current_level() > l) return;
  try {
    std::string line;
    (append(line, a), ...);
    write(l, line);
  } catch (...) {
  }
}
}  // namespace detail

template <class... A> void debug(const A&... a) noexcept { detail::emit(level::debug, a...); }
template <class... A> void info(const A&... a) noexcept { detail::emit(level::info, a...); }
template <class... A> void warn(const A&... a) noexcept { detail::emit(level::warn, a...); }
template <class... A> void error(const A&... a) noexcept { detail::emit(level::error, a...); }

}  // namespace dusty::log
