#include "run.hpp"

#include "report.hpp"
#include "worker.hpp"

#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/core/sharded.hpp>

#include <cstdio>

namespace dusty::load {

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

progress_counts collect_progress(sharded<shard_load>& shards) {
  return shards.map_reduce([](shard_load& s) { return s.progress(); }, progress_counts{},
                           [](progress_counts a, const progress_counts& b) { return a += b; });
}

}  // namespace

run_result run_load(load_plan plan, std::chrono::nanoseconds duration, bool progress) {
  // SIGINT/SIGTERM end the run early with a report; without a fiber waiting here the
  // runtime would cancel the main fiber instead.
  bool interrupted = false;
  struct stop_watch {
    fiber f;
    ~stop_watch() {
      f.cancel();
      try {
        f.join();
      } catch (const cancelled_error&) {
      }
    }
  } stopper{spawn([&interrupted] {
    try {
      wait_for_stop();
      interrupted = true;
    } catch (const cancelled_error&) {
    }
  })};

  plan.start = clock_type::now();
  plan.end = plan.start + std::chrono::duration_cast<clock_type::duration>(duration);
  sharded<shard_load> shards;
  shards.start(plan);
  shards.invoke_on_all([](shard_load& s) { s.start(); });

  // Wait for the end in short naps (to notice an interrupt), with a progress line each
  // second on a terminal.
  auto next_line = plan.start + 1s;
  progress_counts last{};
  auto last_at = plan.start;
  for (;;) {
    auto now = clock_type::now();
    if (now >= plan.end || interrupted) break;
    auto wake = std::min(plan.end, now + 100ms);
    if (progress) wake = std::min(wake, next_line);
    sleep_until(wake);
    if (progress && clock_type::now() >= next_line && clock_type::now() < plan.end) {
      now = clock_type::now();
      auto counts = collect_progress(shards);
      progress_counts delta{counts.responses - last.responses, counts.bytes_read - last.bytes_read, 0};
      auto line = progress_line(now - plan.start, delta, now - last_at, counts.errors);
      std::fprintf(stderr, "\r%s\033[K", line.c_str());
      std::fflush(stderr);
      last = counts;
      last_at = now;
      next_line += 1s;
    }
  }
  auto stopped_at = std::min(clock_type::now(), plan.end);
  if (interrupted) shards.invoke_on_all([](shard_load& s) { s.cancel(); });
  shards.invoke_on_all([](shard_load& s) { s.wait(); });
  if (progress) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }

  run_result r;
  r.stats = shards.map_reduce([](shard_load& s) { return s.take_stats(); }, shard_stats{},
                              [](shard_stats acc, shard_stats part) {
                                acc.merge(part);
                                return acc;
                              });
  shards.stop();
  r.interrupted = interrupted;
  r.elapsed = interrupted ? stopped_at - plan.start : duration;
  return r;
}

}  // namespace dusty::load
