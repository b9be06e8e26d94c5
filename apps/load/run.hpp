#pragma once
// run_load: a whole dusty-load run over every shard of the running runtime. Each shard
// runs its share of the connections (shard_load in a sharded<>); once a second shard 0
// asks every shard for its counters over the cross-core queues (the progress line); at
// the end every shard's stats travel to shard 0 and are merged there.
#include "plan.hpp"
#include "stats.hpp"

#include <chrono>

namespace dusty::load {

struct run_result {
  /// Every shard's counts, merged.
  shard_stats stats;
  /// The measured interval: the duration asked for, or less when interrupted.
  std::chrono::nanoseconds elapsed{0};
  /// SIGINT/SIGTERM ended the run early.
  bool interrupted = false;
};

/// Runs `plan` for `duration` from now on every shard (plan.start and plan.end are set
/// here). With `progress`, writes a progress line to stderr once a second. Call from the
/// main fiber on shard 0; suspends for the duration of the run (plus at most a second).
run_result run_load(load_plan plan, std::chrono::nanoseconds duration, bool progress);

}  // namespace dusty::load
