#pragma once
// Budgets for the frames of an HTTP/2 client that cost the server work without asking
// for any (the 2019 flood attacks, CVE-2019-9512 to -9518): PING, SETTINGS, PRIORITY,
// empty DATA, RST_STREAM (Rapid Reset, CVE-2023-44487), and WINDOW_UPDATE beyond what
// the server's own DATA frames explain. nghttp2 itself bounds queued ACKs
// (max_outbound_ack), SETTINGS entries, CONTINUATION frames (CVE-2024-28182) and, as a
// second line, RST_STREAM; this covers the rest. No I/O: the connection
// asks, and closes with GOAWAY ENHANCE_YOUR_CALM when a budget runs out.
#include <algorithm>
#include <chrono>
#include <cstdint>

namespace dusty::http::h2 {

class flood_guard {
 public:
  using clock = std::chrono::steady_clock;

  /// `burst` control frames at once, refilled at burst / 10 per second.
  explicit flood_guard(std::uint32_t burst) noexcept : burst_(burst), tokens_(burst), refilled_(clock::now()) {}

  /// A control frame arrived (PING, SETTINGS, PRIORITY, RST_STREAM, an empty DATA frame
  /// without END_STREAM, a HEADERS on a stream id gone by). False when the client is over its budget.
  bool control_frame(clock::time_point now = clock::now()) noexcept {
    double per_second = burst_ / 10.0;
    tokens_ = std::min<double>(burst_, tokens_ + per_second * std::chrono::duration<double>(now - refilled_).count());
    refilled_ = now;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

  /// A DATA frame went out: the client may answer it with WINDOW_UPDATEs.
  void data_frame_sent() noexcept { window_updates_allowed_ += 2; }
  /// A WINDOW_UPDATE arrived. False when there are too many for the DATA sent (a client
  /// sends at most one per DATA frame and stream, and one for the connection).
  bool window_update() noexcept {
    if (window_updates_allowed_ == 0) return false;
    --window_updates_allowed_;
    return true;
  }

 private:
  std::uint32_t burst_;
  double tokens_;
  clock::time_point refilled_;
  // Some slack for clients that open their windows before any DATA (curl, browsers).
  std::uint64_t window_updates_allowed_ = 100;
};

}  // namespace dusty::http::h2
