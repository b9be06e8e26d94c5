#pragma once
// What the fuzz targets share: the input as text, and property checks that stop the run
// (libFuzzer then saves the input as a crash reproducer).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

namespace dusty::fuzz {

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// A broken property: says which, then aborts, which libFuzzer reports like a crash.
[[noreturn]] inline void violated(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz property violated at %s:%d: %s\n", file, line, what);
  std::abort();
}

/// Splits `in` at the first '\n' into what comes before and after it (both empty-safe):
/// targets taking two strings (a base URL and a reference) read them this way.
inline std::pair<std::string_view, std::string_view> split_line(std::string_view in) {
  auto nl = in.find('\n');
  if (nl == std::string_view::npos) return {in, {}};
  return {in.substr(0, nl), in.substr(nl + 1)};
}

}  // namespace dusty::fuzz

// Checks a property in every build (assert() would vanish under NDEBUG).
#define DUSTY_FUZZ_CHECK(cond) ((cond) ? void(0) : ::dusty::fuzz::violated(#cond, __FILE__, __LINE__))
