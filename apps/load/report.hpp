#pragma once
// dusty-load's output: the text report, the --json object, and the progress line.
#include "options.hpp"
#include "stats.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

namespace dusty::load {

/// What a finished run reports on.
struct run_summary {
  const load_options& options;
  /// The URL as it will be printed (no userinfo).
  std::string url;
  /// "io_uring" or "epoll".
  std::string backend;
  /// The measured interval: responses and bytes are counted within it.
  std::chrono::nanoseconds elapsed{0};
  /// Every shard's counts, merged.
  const shard_stats& stats;
  /// SIGINT/SIGTERM ended the run before its duration.
  bool interrupted = false;
};

/// The human-readable report (several lines, ending in a newline).
std::string text_report(const run_summary& s);

/// The report as one JSON object; the keys are listed in the README ("dusty-load").
nlohmann::json json_report(const run_summary& s);

/// One line for a terminal, without a newline: "  3s  123456 req/s  16.1 MiB/s  0 errors".
std::string progress_line(std::chrono::nanoseconds since_start, const progress_counts& delta,
                          std::chrono::nanoseconds interval, std::uint64_t total_errors);

/// "812us", "1.23ms", "2.50s": a latency in nanoseconds, three significant digits.
std::string format_latency(double ns);
/// "16.05 MiB": a byte count in binary units.
std::string format_bytes(double bytes);

}  // namespace dusty::load
