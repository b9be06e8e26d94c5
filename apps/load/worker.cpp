#include "worker.hpp"

#include "counting_stream.hpp"
#include "in_flight_ring.hpp"
#include "ws_echo.hpp"

#include <dusty/core/deadline.hpp>
#include <dusty/core/error.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/http/h1/client_connection.hpp>
#include <dusty/net/connection.hpp>
#include <dusty/net/tls/stream.hpp>

#include <sys/socket.h>

#include <algorithm>

namespace dusty::load {

namespace {

using namespace std::chrono_literals;

// Why an exchange on a connection ended.
enum class outcome {
  reconnect,  // the server closes (Connection: close, or a body read to the end of the connection)
  failed,     // an error, already counted
  finished,   // the run is over
};

// The error kind a failed call on the connection counts as.
error_kind kind_of(std::error_code ec, error_kind transport) {
  if (ec == http::errc::invalid_response || ec == http::errc::response_too_large) return error_kind::protocol;
  if (ec == std::errc::broken_pipe) return error_kind::write;
  return transport;
}

// One connection's exchange loop on http::client_connection: writes the pre-serialised
// request, reads and times the responses.
class exchange {
 public:
  exchange(const load_plan& plan, shard_stats& stats, shard_load::slot& slot, in_flight_ring& ring,
           http::client_connection& conn, counting_stream& raw)
      : plan_(plan), stats_(stats), slot_(slot), ring_(ring), conn_(conn), raw_(raw) {
    kind_ = plan.head_request ? http::request_kind::head : http::request_kind::normal;
  }

  // Closed loop: `pipeline` requests are written at once (one send) and the next batch
  // goes out when all of them are answered, as wrk's pipelining script and TechEmpower's
  // pipelining test do. Measured against nginx with 256 connections, topping the window
  // up after every answer (or after half of it) made the server read fewer requests per
  // read and cost it 10-20% of its throughput; with --pipeline 1 both are the same.
  outcome closed_loop() {
    for (;;) {
      if (ring_.size() == 0) {
        auto now = clock_type::now();
        while (!ring_.full()) {
          if (auto w = conn_.write_raw(plan_.request, kind_); !w) return fail(kind_of(w.error(), error_kind::write));
          ring_.push(now);
        }
        slot_.since = now;
        slot_.in_flight = ring_.size();
        if (auto f = conn_.flush(); !f) return fail(kind_of(f.error(), error_kind::write));
      }
      if (auto r = read_response()) return *r;
    }
  }

  // Open loop: each request goes out at its scheduled time, up to `pipeline` in flight (a
  // request due while the window is full goes out once it opens, still timed from its
  // schedule). In between, the fiber waits for a response until the next send is due.
  outcome open_loop(clock_type::time_point& next_send, clock_type::duration interval) {
    for (;;) {
      auto now = clock_type::now();
      if (now >= plan_.end) return outcome::finished;
      bool added = false;
      while (!ring_.full() && next_send <= now) {
        if (auto w = conn_.write_raw(plan_.request, kind_); !w) return fail(kind_of(w.error(), error_kind::write));
        if (ring_.size() == 0) slot_.since = now;
        ring_.push(next_send);
        next_send += interval;
        added = true;
      }
      if (added) {
        slot_.in_flight = ring_.size();
        if (auto f = conn_.flush(); !f) return fail(kind_of(f.error(), error_kind::write));
      }
      if (ring_.size() == 0) {
        sleep_until(std::min(next_send, plan_.end));
        continue;
      }
      // With room in the window, wait for input only until the next send is due. Input
      // the connection already holds (a second pipelined response) needs no wait:
      // peer_closed() says so without a system call for a stream that is not a socket.
      if (!ring_.full() && !conn_.peer_closed()) {
        if (auto w = raw_.wait_readable(std::min(next_send, plan_.end)); !w) {
          if (w.error() == dusty::errc::timed_out) continue;
          return fail(kind_of(w.error(), error_kind::read));
        }
      }
      if (auto r = read_response()) return *r;
    }
  }

 private:
  outcome fail(error_kind k) {
    stats_.count(slot_.timed_out ? error_kind::timeout : k);
    return outcome::failed;
  }

  // Reads one final response (1xx skipped) and its body, and counts it. Returns an
  // outcome when the exchange must end, nothing to go on.
  std::optional<outcome> read_response() {
    if (auto h = conn_.read_head(); !h) return fail(kind_of(h.error(), error_kind::read));
    unsigned status = conn_.head().status;
    if (auto b = conn_.skip_body(); !b) return fail(kind_of(b.error(), error_kind::read));
    auto now = clock_type::now();
    if (now > plan_.end) return outcome::finished;
    ++stats_.responses;
    stats_.count_status(status);
    stats_.latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, (now - ring_.oldest()).count())));
    ring_.pop();
    slot_.since = now;
    slot_.in_flight = ring_.size();
    if (!conn_.reusable()) return outcome::reconnect;
    return std::nullopt;
  }

  const load_plan& plan_;
  shard_stats& stats_;
  shard_load::slot& slot_;
  in_flight_ring& ring_;
  http::client_connection& conn_;
  counting_stream& raw_;
  http::request_kind kind_;
};

}  // namespace

shard_load::shard_load(const load_plan& plan) : plan_(plan) {
  unsigned shard = this_shard_id();
  for (unsigned j = shard; j < plan_.connections; j += plan_.shards) connections_.push_back(j);
  slots_.resize(connections_.size());
}

void shard_load::start() {
  fibers_.reserve(connections_.size() + 1);
  for (std::size_t i = 0; i < connections_.size(); ++i)
    fibers_.push_back(spawn([this, i] {
      try {
        with_deadline(plan_.end, [&] { run_connection(connections_[i], slots_[i]); });
      } catch (const timeout_error&) {
      } catch (const cancelled_error&) {
      }
    }));
  fibers_.push_back(spawn([this] {
    try {
      with_deadline(plan_.end, [&] { watchdog(); });
    } catch (const timeout_error&) {
    } catch (const cancelled_error&) {
    }
  }));
}

void shard_load::wait() {
  // The fibers end at plan.end by themselves; a second later, anything left is cancelled
  // so the run can never hang.
  try {
    with_deadline(plan_.end + 1s, [&] {
      for (auto& f : fibers_)
        if (f.joinable()) f.join();
    });
  } catch (const timeout_error&) {
    for (auto& f : fibers_)
      if (f.joinable()) f.cancel();
    for (auto& f : fibers_)
      if (f.joinable()) f.join();
  }
  fibers_.clear();
}

void shard_load::run_connection(unsigned global_index, slot& s) {
  in_flight_ring ring(plan_.pipeline);
  clock_type::time_point next_send{};
  clock_type::duration interval{};
  if (plan_.rate) {
    // Connection j of c sends at start + j/R + k*c/R: together an even R per second.
    double r = *plan_.rate;
    interval = std::chrono::duration_cast<clock_type::duration>(
        std::chrono::duration<double>(static_cast<double>(plan_.connections) / r));
    if (interval <= clock_type::duration::zero()) interval = clock_type::duration(1);
    next_send = plan_.start + std::chrono::duration_cast<clock_type::duration>(
                                  std::chrono::duration<double>(static_cast<double>(global_index) / r));
  }
  auto backoff = 1ms;
  for (;;) {
    auto c = net::connect(plan_.address, std::min(clock_type::now() + plan_.timeout, plan_.end));
    if (!c) {
      if (clock_type::now() >= plan_.end) return;
      stats_.count(error_kind::connect);
      sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
      continue;
    }
    if (plan_.address.is_ip()) (void)c->set_nodelay(true);
    std::unique_ptr<net::stream> transport;
    if (plan_.tls) {
      // The handshake is part of connecting: a failure counts as a connect error.
      auto t = std::make_unique<net::tls::stream>(
          plan_.tls, std::move(*c),
          net::tls::client_options{.host = plan_.tls_host, .sessions = plan_.tls_resume ? &sessions_ : nullptr,
                                   .session_key = plan_.tls_host});
      if (auto h = t->handshake(std::min(clock_type::now() + plan_.timeout, plan_.end)); !h) {
        if (clock_type::now() >= plan_.end) return;
        stats_.count(error_kind::connect);
        sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
        continue;
      }
      ++stats_.tls_handshakes;
      if (t->resumed()) ++stats_.tls_resumed;
      s.fd = t->transport().fd();
      transport = std::move(t);
    } else {
      s.fd = c->fd();
      transport = std::make_unique<net::connection>(std::move(*c));
    }
    backoff = 1ms;
    ++stats_.connects;
    s.timed_out = false;
    s.in_flight = 0;
    auto stream = std::make_unique<counting_stream>(std::move(transport), stats_.bytes_read, stats_.bytes_written);
    counting_stream& raw = *stream;
    if (plan_.ws) {
      bool over;
      try {
        over = ws_echo(plan_, stats_, s, raw, next_send, interval);
      } catch (...) {
        s.fd = -1;
        s.in_flight = 0;
        throw;
      }
      s.fd = -1;
      s.in_flight = 0;
      if (over) return;
      continue;
    }
    http::client_connection conn(std::move(stream));
    ring.clear();
    exchange x(plan_, stats_, s, ring, conn, raw);
    outcome o;
    try {
      o = plan_.rate ? x.open_loop(next_send, interval) : x.closed_loop();
    } catch (...) {
      s.fd = -1;
      s.in_flight = 0;
      throw;
    }
    s.fd = -1;
    s.in_flight = 0;
    if (o == outcome::finished) return;
  }
}

void shard_load::watchdog() {
  // Checked a few times per timeout, as wrk does, instead of arming a timer per request.
  auto tick = std::clamp<clock_type::duration>(plan_.timeout / 4, 1ms, 250ms);
  for (;;) {
    sleep_for(tick);
    auto now = clock_type::now();
    for (auto& s : slots_) {
      if (s.fd >= 0 && s.in_flight > 0 && !s.timed_out && now - s.since > plan_.timeout) {
        s.timed_out = true;
        ::shutdown(s.fd, SHUT_RDWR);  // wakes the connection's fiber, which counts a timeout
      }
    }
  }
}

}  // namespace dusty::load
