#pragma once
// shard_load: one shard's share of a dusty-load run. It owns this shard's connections
// (one fiber each), their counters, and a watchdog fiber that enforces --timeout. Used
// through sharded<shard_load>: start() and wait() on every shard, progress() every
// second, take_stats() at the end (the results travel to shard 0 and are merged there).
//
// A connection fiber connects, then sends: in a closed loop `pipeline` requests at once,
// and the next batch when all are answered; with a rate, each request at its scheduled
// time (connection j of c sends at start + j/R + k*c/R; at most `pipeline` in flight),
// with latency measured from that time, so a slow server cannot hide its queueing delay
// (no coordinated omission). A failure is counted and the fiber reconnects, backing off
// from 1 ms to 100 ms while connecting fails. Everything ends at plan.end: the fibers'
// waits are cancelled by a deadline scope.
#include "plan.hpp"
#include "stats.hpp"

#include <dusty/core/fiber.hpp>
#include <dusty/net/tls/context.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

namespace dusty::load {

class shard_load {
 public:
  /// Takes this shard's copy of the plan. Call on the shard that will run it.
  explicit shard_load(const load_plan& plan);
  shard_load(const shard_load&) = delete;
  shard_load& operator=(const shard_load&) = delete;

  /// Spawns the connection fibers and the watchdog; returns at once.
  void start();
  /// Waits until every fiber has finished (shortly after plan.end; a fiber still alive
  /// one second later is cancelled). Suspends.
  void wait();
  /// Ends the run on this shard now (SIGINT): cancels every fiber. wait() still follows.
  void cancel() noexcept {
    for (auto& f : fibers_)
      if (f.joinable()) f.cancel();
  }

  /// Counters so far, for the progress line.
  progress_counts progress() const noexcept { return stats_.progress(); }
  /// The shard's counts; call once, after wait().
  shard_stats take_stats() { return std::move(stats_); }

  /// What the watchdog knows of a connection: written by the connection's fiber, read by
  /// the watchdog (same shard, so plain fields).
  struct slot {
    int fd = -1;                                      ///< The socket, or -1 between connections.
    unsigned in_flight = 0;                           ///< Requests sent and not yet answered.
    std::chrono::steady_clock::time_point since{};    ///< Last progress while in_flight > 0.
    bool timed_out = false;                           ///< The watchdog shut the socket down.
  };

 private:
  void run_connection(unsigned global_index, slot& s);
  void watchdog();

  load_plan plan_;
  shard_stats stats_;
  std::vector<unsigned> connections_;  // global indexes of this shard's connections
  std::vector<slot> slots_;            // one per connection, same order
  std::vector<fiber> fibers_;
  net::tls::session_cache sessions_;  // https: the last session of this shard's server
};

}  // namespace dusty::load
