#!/usr/bin/env bash
# Builds the core micro-benchmarks (Release) and runs them all, on both reactor backends,
# then prints one compact table of the figures with their targets (perf/RESULTS.md).
#
#   perf/run-micro.sh            # 5 repetitions of each benchmark, medians (~5 minutes)
#   perf/run-micro.sh --quick    # 1 repetition, shorter runs (~1 minute)
#
# Environment: BUILD_DIR (default build/perf), OUT (JSON and summary; default
# $BUILD_DIR/micro-results), REPS (repetitions; default 5, or 1 with --quick),
# FILTER (a --benchmark_filter regex applied to every binary; default: all).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$repo/build/perf}
reps=${REPS:-5}
min_time=0.5
if [[ ${1:-} == --quick ]]; then
  reps=${REPS:-1}
  min_time=0.2
fi
out=${OUT:-$build/micro-results}
filter=${FILTER:-.}
benches=(baseline_bench fiber_bench timer_bench xcore_bench idle_conn_bench)

[[ -x $repo/scripts/setup.sh ]] && "$repo/scripts/setup.sh"
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DDUSTY_BUILD_TESTS=OFF -DDUSTY_BUILD_APPS=OFF -DDUSTY_BUILD_PERF=ON >/dev/null
cmake --build "$build" --target "${benches[@]}"

mkdir -p "$out"
{
  echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs usable"
  echo "kernel:  $(uname -r)"
  echo "io_uring_disabled: $(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo n/a)"
  if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
    changes=$(git -C "$repo" status --porcelain -- core | wc -l)
    echo "tree:    $(git -C "$repo" rev-parse --short HEAD), $changes uncommitted change(s) in core/"
  fi
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine.txt"

for b in "${benches[@]}"; do
  echo "running $b ..." >&2
  "$build/perf/$b" --benchmark_filter="$filter" --benchmark_repetitions="$reps" \
    --benchmark_report_aggregates_only=true --benchmark_min_time="$min_time" \
    --benchmark_out="$out/$b.json" --benchmark_out_format=json >"$out/$b.txt" 2>&1 ||
    { echo "$b failed; see $out/$b.txt" >&2; exit 1; }
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"
# The benchmarks pin one shard per CPU; anything else running competes with them.
if awk '{ exit !($1 >= 1.0) }' /proc/loadavg; then
  echo "WARNING: the 1-minute load average is $(cut -d' ' -f1 /proc/loadavg): other work shared the CPUs," \
    "so the figures below are inflated. Rerun on a quiet machine." | tee -a "$out/machine.txt"
fi

python3 - "$out" "${benches[@]}" <<'EOF' | tee "$out/summary.md"
import json, os, re, sys

out, benches = sys.argv[1], sys.argv[2:]
to_ns = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}

# run_name -> {aggregate: entry}
runs = {}
for b in benches:
    path = os.path.join(out, b + ".json")
    if not os.path.exists(path):
        continue
    for e in json.load(open(path))["benchmarks"]:
        if e.get("error_occurred"):
            print(f"ERROR {e['name']}: {e.get('error_message')}")
            continue
        agg = e.get("aggregate_name", "median")  # a single repetition has no aggregates
        runs.setdefault(e["run_name"], {})[agg] = e

def fmt_ns(ns):
    if ns >= 1e6: return f"{ns/1e6:.2f} ms"
    if ns >= 1e3: return f"{ns/1e3:.2f} µs"
    return f"{ns:.1f} ns"

rows = []
def add(r, figure, backend, get, fmt, target=None, ok=None):
    med = r.get("median") or r.get("mean")
    lo, hi = r.get("min", med), r.get("max", med)
    v = get(med)
    spread = f"{fmt(get(lo))} – {fmt(get(hi))}" if lo is not med else ""
    verdict = "" if ok is None else ("yes" if ok(v) else "NO")
    rows.append((figure, backend, fmt(v), spread, target or "", verdict))

def time_per(div, field="real_time"):
    return lambda e: e[field] * to_ns[e["time_unit"]] / div

groups = ["fiber_switch", "spawn_join", "timer_arm_cancel", "timer_arm_fire", "timer_expiry",
          "xcore_round_trip", "xcore_pipelined", "idle_connections"]
def order(name):
    parts = name.split("/")
    kind = parts[0]
    backend = {"io_uring": 0, "epoll": 1}.get(parts[1] if len(parts) > 1 else "", 2)
    nums = [int(x) for x in re.findall(r"(?<=[/:])(\d+)(?=/|$)", name)]
    modes = [0 if "idle" in name else 1]
    return (groups.index(kind) if kind in groups else len(groups), backend, modes, nums, name)

for name in sorted(runs, key=order):
    r = runs[name]
    parts = name.split("/")
    parts = [p for p in parts if p not in ("real_time", "manual_time") and not p.startswith("iterations:")]
    kind, rest = parts[0], parts[1:]
    if kind == "fiber_switch":
        be, n = rest[0], int(rest[1])
        add(r, f"fiber switch (yield), {n} fibers: wall", be, time_per(n), fmt_ns, "< 50 ns" if n == 2 else None,
            (lambda v: v < 50) if n == 2 else None)
        add(r, f"fiber switch (yield), {n} fibers: shard CPU", be, time_per(n, "cpu_time"), fmt_ns)
    elif kind == "spawn_join":
        be, k = rest[0], int(rest[1])
        add(r, f"spawn + join, batch {k}, per fiber", be, time_per(k), fmt_ns)
    elif kind == "timer_arm_cancel":
        be, k = rest[0], int(rest[1])
        add(r, f"timer arm + cancel (with_timeout), {k} other timers", be, time_per(1), fmt_ns)
    elif kind == "timer_arm_fire":
        add(r, "timer arm + fire (sleep_for(0), one loop turn)", rest[0], time_per(1), fmt_ns)
    elif kind == "timer_expiry":
        add(r, "deadline expiry interrupting a sleep (+2 exceptions)", rest[0], time_per(1), fmt_ns)
    elif kind == "xcore_round_trip":
        be, mode = rest[0], rest[1]
        add(r, f"submit_to round trip 0→1→0, shards {mode}", be, time_per(1), fmt_ns, "< 5 µs", lambda v: v < 5000)
    elif kind == "xcore_pipelined":
        be, k = rest[0], int(rest[1])
        add(r, f"submit_to pipelined, {k} in flight, per call", be, time_per(k), fmt_ns)
    elif kind == "idle_connections":
        be = rest[0]
        args = dict(p.split(":") for p in rest[1:])
        n, deep, trim = int(args["conns"]), int(args["deep_stack"]), int(args["trim"])
        what = "fresh" if deep == 0 else f"after {deep // 1024} KiB of stack" + (", trimmed" if trim else "")
        kib = lambda v: f"{v/1024:.2f} KiB"
        add(r, f"idle conn RSS ({n:,}, {what})", be, lambda e: e["rss_B"], kib,
            "< 16 KiB" if deep == 0 else None, (lambda v: v < 16384) if deep == 0 else None)
        add(r, f"  of which stack pages per fiber", be, lambda e: e["stack_pages"], lambda v: f"{v:.2f}")
        add(r, f"  of which other user memory", be, lambda e: e["other_B"], lambda v: f"{v:.0f} B")
        add(r, f"  page tables (VmPTE, not in RSS)", be, lambda e: e["pte_B"], lambda v: f"{v:.0f} B")
        add(r, f"  kernel slab, system-wide, both ends", be, lambda e: e["slab_B"], kib)
        add(r, f"  RSS kept after teardown", be, lambda e: e["after_B"], lambda v: f"{v:.0f} B")
    elif kind.startswith("baseline_"):
        label = name.replace("/real_time", "")
        if kind == "baseline_boost_context_jump":
            add(r, "baseline: one Boost.Context jump", "-", time_per(2), fmt_ns)
        else:
            add(r, f"baseline: {label[len('baseline_'):]}", "-", time_per(1), fmt_ns)

head = ("figure", "backend", "median", "min – max", "target", "met")
widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
print(line(head))
print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
for r in rows:
    print(line(r))
EOF
