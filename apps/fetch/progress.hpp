#pragma once
// The progress meter dusty-fetch shows on stderr while it writes a body to a file (-o)
// and stderr is a terminal: one line, rewritten in place once per second.
//
//   4.0 MiB of 20.0 MiB  20%  3.9 MiB/s
//   4.0 MiB  3.9 MiB/s                       (no Content-Length, or a decoded body)
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace dusty::apps::fetch {

/// "512 B", "1.5 KiB", "20.0 MiB", "1.2 GiB".
inline std::string human_bytes(double n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (n >= 1024 && u < 4) {
    n /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%.0f %s", n, units[u]);
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", n, units[u]);
  return buf;
}

class progress_meter {
 public:
  using clock = std::chrono::steady_clock;

  /// `total`: the body size when known in advance (Content-Length of a body that is not
  /// decoded on the way).
  explicit progress_meter(std::optional<std::uint64_t> total, clock::time_point start = clock::now())
      : total_(total), start_(start), last_tick_(start) {}

  void add(std::uint64_t bytes) noexcept { received_ += bytes; }
  std::uint64_t received() const noexcept { return received_; }

  /// The meter's text at `now`: the rate is that since the previous line (or, with
  /// `average`, since the start).
  std::string line(clock::time_point now, bool average = false) {
    auto since = average ? start_ : last_tick_;
    auto from = average ? 0 : last_received_;
    double seconds = std::chrono::duration<double>(now - since).count();
    double rate = seconds > 0 ? static_cast<double>(received_ - from) / seconds : 0;
    last_tick_ = now;
    last_received_ = received_;
    std::string s = human_bytes(static_cast<double>(received_));
    if (total_) {
      s += " of " + human_bytes(static_cast<double>(*total_));
      auto percent = *total_ ? received_ * 100 / *total_ : 100;
      s += "  " + std::to_string(percent) + "%";
    }
    return s + "  " + human_bytes(rate) + "/s";
  }

  /// Rewrites the terminal line on stderr.
  void show(clock::time_point now = clock::now()) { put("\r" + pad(line(now))); }
  /// The last line, with the average rate, and a newline, if a line was shown before.
  void finish(clock::time_point now = clock::now()) {
    if (!finished_ && shown_) put("\r" + pad(line(now, true)) + "\n");
    finished_ = true;
  }
  bool finished() const noexcept { return finished_; }

 private:
  // Pads to the longest line shown so far, so a shorter line wipes the previous one.
  std::string pad(std::string s) {
    if (s.size() < width_) s.append(width_ - s.size(), ' ');
    width_ = s.size();
    return s;
  }
  void put(const std::string& s) {
    shown_ = true;
    // A failed write to the terminal is not worth failing the download for.
    (void)!::write(2, s.data(), s.size());
  }

  std::optional<std::uint64_t> total_;
  clock::time_point start_;
  clock::time_point last_tick_;
  std::uint64_t received_ = 0;
  std::uint64_t last_received_ = 0;
  std::size_t width_ = 0;
  bool shown_ = false;
  bool finished_ = false;
};

}  // namespace dusty::apps::fetch
