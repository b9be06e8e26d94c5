#include "ws_echo.hpp"

#include "in_flight_ring.hpp"

#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/http/ws/frame.hpp>
#include <dusty/net/buffered_stream.hpp>

#include <algorithm>
#include <string_view>

namespace dusty::load {
namespace {

namespace ws = http::ws;

class echo_loop {
 public:
  echo_loop(const load_plan& plan, shard_stats& stats, shard_load::slot& slot, net::stream& stream)
      : plan_(plan), stats_(stats), slot_(slot), io_(stream, {.max_input = 64 * 1024}), ring_(plan.pipeline) {}

  bool handshake() {
    if (!io_.write(plan_.request, plan_.end) || !io_.flush(plan_.end)) return fail(error_kind::write);
    slot_.in_flight = 1;  // the watchdog bounds the wait for the 101 too
    slot_.since = clock_type::now();
    auto head = io_.read_until("\r\n\r\n", 16 * 1024, plan_.end);
    slot_.in_flight = 0;
    if (!head) return fail(error_kind::read);
    if (!io_.view().starts_with("HTTP/1.1 101 ")) return fail(error_kind::protocol);
    io_.consume(*head);
    return true;
  }

  bool closed_loop() {
    for (;;) {
      auto now = clock_type::now();
      while (!ring_.full()) {
        if (!io_.write(plan_.ws_frame, plan_.end)) return fail(error_kind::write);
        ring_.push(now);
      }
      slot_.since = now;
      slot_.in_flight = ring_.size();
      if (!io_.flush(plan_.end)) return fail(error_kind::write);
      while (ring_.size() > 0)
        if (auto r = read_echo(plan_.end); r != step::echo) return r == step::over;
    }
  }

  bool open_loop(clock_type::time_point& next_send, clock_type::duration interval) {
    for (;;) {
      auto now = clock_type::now();
      if (now >= plan_.end) return true;
      bool added = false;
      while (!ring_.full() && next_send <= now) {
        if (!io_.write(plan_.ws_frame, plan_.end)) return fail(error_kind::write);
        if (ring_.size() == 0) slot_.since = now;
        ring_.push(next_send);
        next_send += interval;
        added = true;
      }
      if (added) {
        slot_.in_flight = ring_.size();
        if (!io_.flush(plan_.end)) return fail(error_kind::write);
      }
      if (ring_.size() == 0) {
        sleep_until(std::min(next_send, plan_.end));
        continue;
      }
      // With room in the window, wait for an echo only until the next send is due.
      auto until = ring_.full() ? plan_.end : std::min(next_send, plan_.end);
      if (auto r = read_echo(until); r != step::echo && r != step::waited) return r == step::over;
    }
  }

 private:
  enum class step { echo, waited, over, failed };

  bool fail(error_kind k) {
    stats_.count(slot_.timed_out ? error_kind::timeout : k);
    return false;
  }

  // Reads frames until one whole message has come back (echo), `until` passes (waited),
  // the run ends (over) or the connection fails (failed, counted). Payloads are skipped as
  // they arrive, never assembled; pings are not answered (the runs are far shorter than a
  // server's keep-alive interval).
  step read_echo(clock_type::time_point until) {
    for (;;) {
      auto in = io_.data();
      if (left_ > 0 && !in.empty()) {
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, in.size()));
        io_.consume(n);
        left_ -= n;
        if (left_ == 0 && done_) return echoed();
        continue;
      }
      if (ws::frame_header h; left_ == 0 && !in.empty()) {
        if (auto n = ws::parse_header(in, h)) {
          io_.consume(n);
          auto op = static_cast<ws::opcode>(h.opcode);
          if (op == ws::opcode::close || h.masked) {
            fail(error_kind::protocol);
            return step::failed;
          }
          left_ = h.length;
          done_ = h.fin && !ws::is_control(op);
          if (left_ == 0 && done_) return echoed();
          continue;
        }
      }
      auto f = io_.fill(until);
      if (f) continue;
      if (f.error() == dusty::errc::timed_out) return clock_type::now() >= plan_.end ? step::over : step::waited;
      fail(error_kind::read);
      return step::failed;
    }
  }

  step echoed() {
    done_ = false;
    auto now = clock_type::now();
    if (now > plan_.end) return step::over;
    ++stats_.responses;
    stats_.latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, (now - ring_.oldest()).count())));
    ring_.pop();
    slot_.since = now;
    slot_.in_flight = ring_.size();
    return step::echo;
  }

  const load_plan& plan_;
  shard_stats& stats_;
  shard_load::slot& slot_;
  net::buffered_stream io_;
  in_flight_ring ring_;
  std::uint64_t left_ = 0;  // payload bytes of the current frame still to skip
  bool done_ = false;       // the current frame ends a data message
};

}  // namespace

bool ws_echo(const load_plan& plan, shard_stats& stats, shard_load::slot& slot, net::stream& stream,
             clock_type::time_point& next_send, clock_type::duration interval) {
  echo_loop loop(plan, stats, slot, stream);
  if (!loop.handshake()) return clock_type::now() >= plan.end;
  return plan.rate ? loop.open_loop(next_send, interval) : loop.closed_loop();
}

}  // namespace dusty::load
