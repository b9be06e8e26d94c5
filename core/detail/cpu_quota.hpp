#pragma once
// The CPU bandwidth limit of the process's cgroup, as a whole number of CPUs: what the
// runtime's default shard count is capped by (runtime_config::shards), as Go (1.25,
// GOMAXPROCS) and Java (-XX:ActiveProcessorCount) do. A container started with
// `--cpus 1.5` on an 8-CPU host may still run on all 8 CPUs (sched_getaffinity says 8),
// but gets 1.5 CPUs of time per period; 8 shards would each be throttled, 2 are not.
//
// Both cgroup layouts count, and a hybrid host has both: cgroup v2's `cpu.max`
// ("max 100000" or "150000 100000") and cgroup v1's `cpu.cfs_quota_us` (-1 for none) with
// `cpu.cfs_period_us`. The cgroup's directory is found from /proc/self/cgroup and the
// mount's root in /proc/self/mountinfo (inside a container the mount's root is the
// container's cgroup, so the paths in /proc/self/cgroup do not start at the mount point).
// Every ancestor up to the mount point is read too, since a parent's limit binds its
// children; the smallest limit wins.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace dusty::detail {

/// Whole CPUs a quota of `quota` per `period` allows: ceil(quota / period), at least 1.
/// nullopt for no limit (a quota of -1, or anything not positive).
std::optional<unsigned> cpus_for_quota(long long quota, long long period) noexcept;

/// Parses cgroup v2 `cpu.max` text ("150000 100000\n"; "max 100000" is no limit).
std::optional<unsigned> parse_cpu_max(std::string_view text) noexcept;

/// Parses cgroup v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us` texts ("-1" is no limit).
std::optional<unsigned> parse_cfs_quota(std::string_view quota_text, std::string_view period_text) noexcept;

/// Reads a whole file; nullopt when it cannot be read.
using file_reader = std::function<std::optional<std::string>(const std::string& path)>;

/// The process's CPU limit from the cgroup files `read` returns, starting from
/// /proc/self/cgroup and /proc/self/mountinfo. nullopt when no cgroup sets one.
std::optional<unsigned> cgroup_cpu_limit(const file_reader& read);

/// The same from the real files.
std::optional<unsigned> cgroup_cpu_limit();

}  // namespace dusty::detail
