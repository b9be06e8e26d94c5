#include <dusty/core/log.hpp>

#include <dusty/core/detail/shard.hpp>

#include <unistd.h>

#include <atomic>
#include <cstdlib>

namespace dusty::log {
namespace {

level initial_level() {
  const char* env = std::getenv("DUSTY_LOG");
  if (!env) return level::info;
  std::string_view v(env);
  if (v == "debug") return level::debug;
  if (v == "warn") return level::warn;
  if (v == "error") return level::error;
  if (v == "off") return level::off;
  return level::info;
}

std::atomic<level>& threshold() {
  static std::atomic<level> l{initial_level()};
  return l;
}

const char* name(level l) {
  switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
    case level::off: break;
  }
  return "";
}

}  // namespace

void set_level(level l) noexcept { threshold().store(l, std::memory_order_relaxed); }
level current_level() noexcept { return threshold().load(std::memory_order_relaxed); }

void write(level l, std::string_view line) noexcept {
  try {
    std::string out = "dusty";
    if (auto* s = dusty::detail::shard::current()) {
      out += '[';
      detail::append(out, s->id());
      out += ']';
    }
    out += ' ';
    out += name(l);
    out += ": ";
    out += line;
    out += '\n';
    for (std::size_t done = 0; done < out.size();) {
      ssize_t n = ::write(STDERR_FILENO, out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
  } catch (...) {
  }
}

}  // namespace dusty::log
