// The fibers streams run in, and what happens to a stream after its fiber has left.
//
// A fresh fiber per stream costs a stack each: with h2load's 64 connections x 100 streams
// that is 6,400 stacks at once, more than the shard's cache holds, and the mmap, munmap
// and page faults took most of the CPU. Instead each connection keeps workers: a worker
// takes the next queued stream, and before running it makes sure another worker will
// take the rest should this handler wait (one is started unless one is idle or already
// starting). Quick handlers are then served back to back by one fiber; a slow one gets
// its own as soon as it waits. A worker whose stream was reset while its handler ran has
// been cancelled (cancellation sticks to a fiber): it hands the queue on and ends.
#include <dusty/http/h2/connection.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/error.hpp>
#include <dusty/core/log.hpp>

#include <nghttp2/nghttp2.h>

namespace dusty::http::h2 {
namespace {

using clock = std::chrono::steady_clock;

// Idle workers a connection keeps for its next requests; more end when they find no work,
// and these end after worker_linger without any.
constexpr std::size_t max_idle_workers = 2;
constexpr std::chrono::milliseconds worker_linger{250};

}  // namespace

void connection::start_stream(stream& st) {
  st.ph = stream::phase::queued;
  ready_.push_back(&st);
  if (idle_workers_ > 0)
    work_.notify_one();
  else if (starting_workers_ == 0)
    spawn_worker();
}

void connection::spawn_worker() {
  ++starting_workers_;
  auto it = workers_.emplace(workers_.end());
  try {
    *it = spawn([this, it] { work(it); });
  } catch (...) {
    --starting_workers_;
    workers_.erase(it);
    throw;
  }
}

void connection::work(std::list<fiber>::iterator self) {
  --starting_workers_;
  try {
    for (;;) {
      while (!ready_.empty()) {
        stream& st = *ready_.front();
        ready_.pop_front();
        if (!ready_.empty() && idle_workers_ == 0 && starting_workers_ == 0) spawn_worker();
        if (st.closed) {  // reset before any fiber ran it (Rapid Reset): no work at all
          st.ph = stream::phase::done;
          if (!closing_) streams_.erase(st.id);
          continue;
        }
        st.ph = stream::phase::running;
        st.runner = &*self;
        try {
          run_stream(st);
        } catch (const cancelled_error&) {
        } catch (const std::exception& e) {
          log::error("http2: stream failed: ", e.what());
        }
        end_stream_fiber(st);
        check_cancelled();  // a reset stream's worker ends here
      }
      if (closing_ || idle_workers_ >= max_idle_workers) break;
      // An idle worker waits a moment for the next request, then ends: a connection at
      // rest holds no worker stacks.
      ++idle_workers_;
      bool more = true;
      try {
        with_timeout(worker_linger, [this] { work_.wait(); });
      } catch (const timeout_error&) {
        more = false;
      } catch (...) {
        --idle_workers_;
        throw;
      }
      --idle_workers_;
      if (!more && ready_.empty()) break;
    }
  } catch (const cancelled_error&) {
  }
  if (closing_) return;  // shut_down joins it
  if (!ready_.empty() && idle_workers_ == 0 && starting_workers_ == 0) spawn_worker();
  workers_.erase(self);  // drops the handle to this very fiber, which detaches it
}

void connection::end_stream_fiber(stream& st) noexcept {
  st.runner = nullptr;
  st.in_handler = false;
  // A body still borrowed from the handler's response dies with its frame: nghttp2 must
  // not ask for it.
  if (!st.out_borrowed.empty()) {
    st.out_borrowed = {};
    st.out_aborted = true;
  }
  st.ph = stream::phase::done;
  count_traffic();
  if (closing_) return;
  last_activity_ = clock::now();
  if (st.closed) {
    streams_.erase(st.id);
    wake();
    return;
  }
  bool complete = st.response_started && st.out_eof && !st.out_aborted;
  if (!complete) {
    if (!st.reset_sent) reset_stream(st, NGHTTP2_INTERNAL_ERROR);
    return;
  }
  // The rest of the response goes out without the fiber (sweep watches it).
  st.stalled_since = clock::now();
  st.stalled_framed = st.out_framed;
  if (st.response_sent) start_discard(st);
  wake();
}

void connection::start_discard(stream& st) noexcept {
  if (st.discarding || st.body_ended || st.closed || st.reset_sent) return;
  // The rest of the body is read and dropped, up to max_drain, as HTTP/1 drains it: some
  // clients (curl 7.88) take an early RST_STREAM as a failure of the whole exchange.
  st.discarding = true;
  std::size_t held = 0;
  for (const auto& piece : st.body) held += piece.size();
  st.body.clear();
  nghttp2_session_consume_stream(session_, st.id, held);
  discard(st, held);
  wake();
}

void connection::discard(stream& st, std::size_t n) noexcept {
  st.discarded += n;
  if (st.discarded > state_.config.limits.max_drain && !st.reset_sent && !st.closed)
    reset_stream(st, NGHTTP2_NO_ERROR);
}

void connection::reset_stream(stream& st, std::uint32_t code) noexcept {
  st.reset_sent = true;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st.id, code);
  wake();
}

// Streams whose fiber has left and that are still open: their response is waiting for
// the client's window, or (response sent) the end of a request body being discarded.
// One that makes no progress for timeouts.write (resp. timeouts.body_read) is reset.
void connection::sweep(deadline now) noexcept {
  const auto& cfg = state_.config.timeouts;
  for (auto& [id, p] : streams_) {
    stream& st = *p;
    if (st.ph != stream::phase::done || st.closed || st.reset_sent) continue;
    if (st.out_framed != st.stalled_framed) {
      st.stalled_framed = st.out_framed;
      st.stalled_since = now;
    } else if (!st.response_sent && now - st.stalled_since > cfg.write) {
      reset_stream(st, NGHTTP2_CANCEL);
    } else if (st.response_sent && now - st.stalled_since > cfg.body_read) {
      reset_stream(st, NGHTTP2_NO_ERROR);
    }
  }
}

}  // namespace dusty::http::h2
