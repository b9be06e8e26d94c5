#!/usr/bin/env bash
# Builds the micro-benchmarks (Release) and runs them: the runtime ones on both reactor
# backends, and the HTTP ones (parser, router, query, request, response). Prints one
# compact table per group with medians, min–max over the repetitions and the targets of
# perf/RESULTS.md, and checks that the allocation-free paths stayed allocation-free.
#
#   perf/run-micro.sh            # 5 repetitions of each benchmark, medians (~8 minutes)
#   perf/run-micro.sh --quick    # 1 repetition, shorter runs (~2 minutes)
#   perf/run-micro.sh --http     # only the HTTP benchmarks (--core: only the runtime ones)
#
# Exit status: non-zero when a build or a binary fails, or when a benchmark that must not
# allocate did (the HTTP benchmarks count heap allocations per iteration, see
# perf/http/alloc_counter.hpp, and mark such a run as an error; this script lists them
# under "ALLOCATION CHECK FAILED"). Other benchmark errors (io_uring refused by the
# kernel, say) are printed but do not fail the run.
#
# Environment: BUILD_DIR (default build/perf), OUT (JSON and summary; default
# $BUILD_DIR/micro-results), REPS (repetitions; default 5, or 1 with --quick),
# FILTER (a --benchmark_filter regex applied to every binary; default: all).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$repo/build/perf}
quick=0
core=1
http=1
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    --http) core=0 ;;
    --core) http=0 ;;
    *) echo "usage: $0 [--quick] [--http | --core]" >&2; exit 2 ;;
  esac
done
reps=${REPS:-5}
min_time=0.5
if ((quick)); then
  reps=${REPS:-1}
  min_time=0.2
fi
out=${OUT:-$build/micro-results}
filter=${FILTER:-.}
benches=()
((core)) && benches+=(baseline_bench fiber_bench timer_bench xcore_bench idle_conn_bench)
((http)) && benches+=(parser_bench router_bench query_bench request_bench response_bench)

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
    changes=$(git -C "$repo" status --porcelain -- core net http | wc -l)
    echo "tree:    $(git -C "$repo" rev-parse --short HEAD), $changes uncommitted change(s) in core/ net/ http/"
  fi
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine.txt"

for b in "${benches[@]}"; do
  echo "running $b ..." >&2
  "$build/perf/$b" --benchmark_filter="$filter" --benchmark_repetitions="$reps" \
    --benchmark_display_aggregates_only=true --benchmark_min_time="$min_time" \
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
import json, os, re, statistics, sys

out, benches = sys.argv[1], sys.argv[2:]
http_benches = {"parser_bench", "router_bench", "query_bench", "request_bench", "response_bench"}
to_ns = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}

# run_name -> {"bench": binary, "reps": [one entry per repetition], "aggs": {aggregate: entry}}
runs = {}
errors, alloc_failures = [], []
for b in benches:
    path = os.path.join(out, b + ".json")
    try:
        entries = json.load(open(path))["benchmarks"]
    except (OSError, ValueError):
        continue  # no such file, or empty: the filter matched nothing in this binary
    for e in entries:
        r = runs.setdefault(e["run_name"], {"bench": b, "reps": [], "aggs": {}})
        if e.get("error_occurred"):
            msg = f"{b}: {e['name']}: {e.get('error_message')}"
            (alloc_failures if "must not allocate" in (e.get("error_message") or "") else errors).append(msg)
            continue
        if e.get("run_type") == "aggregate":
            r["aggs"][e["aggregate_name"]] = e
        else:
            r["reps"].append(e)
runs = {k: v for k, v in runs.items() if v["reps"] or v["aggs"]}
for m in dict.fromkeys(errors):
    print(f"ERROR {m}")

def fmt_ns(ns):
    if ns >= 1e6: return f"{ns/1e6:.2f} ms"
    if ns >= 1e3: return f"{ns/1e3:.2f} µs"
    return f"{ns:.1f} ns"

def stats(r, get):
    """Median, min and max of get() over the repetitions (or the aggregates when only those exist)."""
    if r["reps"]:
        vals = [get(e) for e in r["reps"]]
        return statistics.median(vals), min(vals), max(vals), len(vals)
    med = r["aggs"].get("median") or r["aggs"].get("mean")
    lo, hi = r["aggs"].get("min", med), r["aggs"].get("max", med)
    return get(med), get(lo), get(hi), 2 if lo is not med else 1

def table(head, rows):
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))

rows = []
def add(r, figure, backend, get, fmt, target=None, ok=None):
    v, lo, hi, n = stats(r, get)
    spread = f"{fmt(lo)} – {fmt(hi)}" if n > 1 else ""
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

for name in sorted((n for n in runs if runs[n]["bench"] not in http_benches), key=order):
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

if rows:
    table(("figure", "backend", "median", "min – max", "target", "met"), rows)

# HTTP: one row per benchmark. Batches are shown per request (depth:N, parse_pipelined_16);
# "CPU" is the CPU time of the thread running the loop (for the exchanges, the one shard
# that runs both client and server), which a busy machine inflates less than wall time.
http_rows = []
def http_key(name):
    parts = [p for p in name.split("/") if p not in ("real_time", "manual_time")]
    backend = next((p for p in parts if p in ("io_uring", "epoll")), "-")
    label = "/".join(p for p in parts if p not in ("io_uring", "epoll"))
    return benches.index(runs[name]["bench"]), label, ("io_uring", "epoll", "-").index(backend)

for name in sorted((n for n in runs if runs[n]["bench"] in http_benches), key=http_key):
    r = runs[name]
    label, backend = http_key(name)[1], ("io_uring", "epoll", "-")[http_key(name)[2]]
    depth = re.search(r"depth:(\d+)", name)
    div = int(depth.group(1)) if depth else (16 if name.startswith("parse_pipelined_16") else 1)
    per = "request" if div > 1 or depth else "iteration"
    wall, wlo, whi, n = stats(r, time_per(div))
    cpu = stats(r, time_per(div, "cpu_time"))[0]
    allocs = stats(r, lambda e: e.get("allocs", float("nan")))[0]
    allocs = "" if allocs != allocs else f"{allocs:g}"
    http_rows.append((r["bench"], label, backend, per, fmt_ns(wall), f"{fmt_ns(wlo)} – {fmt_ns(whi)}" if n > 1 else "",
                      fmt_ns(cpu), allocs))
if http_rows:
    if rows:
        print()
    table(("binary", "benchmark", "backend", "per", "wall median", "min – max", "CPU median", "allocs"), http_rows)

if alloc_failures:
    print()
    print("ALLOCATION CHECK FAILED: these paths must not allocate and did:")
    for m in dict.fromkeys(alloc_failures):
        print(f"  {m}")
    sys.exit(1)
EOF
