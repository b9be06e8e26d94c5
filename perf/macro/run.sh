#!/usr/bin/env bash
# The HTTP macro suite (issue 6): dusty-hello beside nginx, h2o and an io_uring ceiling,
# one worker each pinned to one CPU, the load generator pinned to another; contenders
# interleaved round by round, medians, min–max and per-round ratios. See perf/README.md.
#
#   perf/macro/run.sh                  # everything: 3 rounds x 5 s per run (about 20 minutes);
#                                      # records perf/results/<date>-<host>.json, the table in
#                                      # perf/RESULTS.md and the README's benchmark table
#   perf/macro/run.sh --quick          # CI: 3 short rounds of plaintext keep-alive and pipelined,
#                                      # dusty vs nginx; exit 2 below --min-ratio (default 0.6)
#   perf/macro/run.sh --only plaintext,json --rounds 5 --load h2load
#
# Options:
#   --quick             3 rounds x 2 s of plaintext-256 and pipelined-16, dusty (io_uring) and
#                       nginx, wrk; floor check at --min-ratio 0.6; records nothing; < 2 minutes
#   --rounds N          rounds (default 3); every round runs each contender once per workload
#   --duration S        measured seconds per run (default 5); --warmup S (default 1)
#   --only LIST         workloads, comma-separated names or prefixes: plaintext-16 plaintext-256
#                       plaintext-1024 json-16 json-256 json-1024 pipelined-16 close bytes-1m
#                       upload-64k rate idle-10k, and loadgen (load generators against nginx)
#   --load GEN          preferred load generator: auto (dusty-load if it builds, else wrk), wrk,
#                       h2load, dusty-load. A workload the generator cannot run (wrk: the fixed
#                       rate) falls back to one that can; the table says which ran.
#   --servers LIST      default dusty,nginx,h2o,ceiling
#   --backends LIST     dusty's reactor backends (default io_uring,epoll; the first is the one
#                       the ratios are for; io_uring falls back to epoll when unavailable)
#   --rate R            requests/s of the fixed-rate workload (default 20000)
#   --idle N            connections of the idle-memory workload (default 10000)
#   --min-ratio X       exit 2 if a median dusty/nginx req/s ratio of a throughput workload is
#                       below X (default: 0.6 with --quick, off otherwise)
#   --build-dir DIR     Release build directory (default build/release, as ./dev.sh run)
#   --no-build          use the binaries already in the build directory
#   --record            write perf/results/*.json, perf/RESULTS.md and README.md (default for a
#                       full run: no --quick and no --only); --no-record: never
#   --from-json FILE    run nothing: redo the tables of an earlier run's results.json (e.g.
#                       perf/results/<date>-<host>.json) into --out; with --record, record them
#   --out DIR           results.md, results.json and every tool's output (default
#                       BUILD_DIR/macro-results)
#   --nice N            run servers and load generators at nice N (e.g. -10 on a machine shared
#                       with builds; the same for every contender, so the comparison stays fair)
#   --server-cpu N / --client-cpu N   (default 0 / 1); --max-others F, --retries N: a run during
#                       which other processes took more than F (0.10) of the server CPU is run
#                       again, up to N (1) times, keeping the quietest attempt
#
# Every loop is bounded: each load generator run is killed 30 s past its duration, the idle
# workload gives up after 60 s. Servers are stopped on exit, Ctrl-C or SIGTERM.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build/release
do_build=1
record=auto
quick=0
load=auto
servers=dusty,nginx,h2o,ceiling
only=
min_ratio=
out=
from_json=
pass=()
cmdline="perf/macro/run.sh${*:+ $*}"
while (($#)); do
  case $1 in
    --build-dir) build=$(realpath -m "$2"); shift 2 ;;
    --no-build) do_build=0; shift ;;
    --quick) quick=1; shift ;;
    --record) record=1; shift ;;
    --no-record) record=0; shift ;;
    --load) load=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --min-ratio) min_ratio=$2; shift 2 ;;
    --out) out=$(realpath -m "$2"); shift 2 ;;
    --from-json) from_json=$(realpath -m "$2"); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) pass+=("$1"); shift ;;
  esac
done
if ((quick)); then
  # Later options win over these (argparse keeps the last value).
  pass=(--rounds 3 --duration 2 --warmup 1 --retries 0 --backends io_uring "${pass[@]}")
  [[ -n $only ]] || only=plaintext-256,pipelined-16
  [[ $servers != dusty,nginx,h2o,ceiling ]] || servers=dusty,nginx
  [[ $load != auto ]] || load=wrk
  [[ -n $min_ratio ]] || min_ratio=0.6
fi
[[ $record != auto ]] || { [[ $quick == 0 && -z $only ]] && record=1 || record=0; }
out=${out:-$build/macro-results}

# Records the run in $out: perf/results/<date>-<host>.json (from $1), RESULTS.md, README.md.
record_results() {
  local day host dest
  mkdir -p "$repo/perf/results"
  day=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["meta"]["date"][:10])' "$1")
  host=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["meta"]["machine"]["host"])' "$1")
  dest=$repo/perf/results/$day-$host.json
  [[ $(realpath -m "$1") == "$dest" ]] || cp "$1" "$dest"
  python3 "$here/record.py" "$repo/perf/RESULTS.md" "$out/results.md" "$repo/README.md" "$out/readme-table.md"
  echo "recorded: ${dest#$repo/}, perf/RESULTS.md, README.md"
}

if [[ -n $from_json ]]; then
  python3 "$here/macro.py" --from-json "$from_json" --out "$out" ${min_ratio:+--min-ratio "$min_ratio"}
  [[ $record != 1 ]] || record_results "$from_json"
  exit 0
fi

for tool in nginx taskset python3; do
  command -v "$tool" >/dev/null || { echo "macro: $tool is not installed (scripts/setup.sh)" >&2; exit 1; }
done
command -v wrk >/dev/null || command -v h2load >/dev/null ||
  { echo "macro: neither wrk nor h2load is installed" >&2; exit 1; }
if (($(nproc) < 2)); then
  echo "macro: needs 2 CPUs (server and load generator on different CPUs); this process may use $(nproc)" >&2
  exit 1
fi

# Build only what this run needs: dusty-hello, the ceiling, dusty-load.
targets=(dusty-hello)
[[ ,$servers, == *,ceiling,* ]] && targets+=(dusty-ceiling)
want_load=0
if [[ $load == dusty-load || ($load == auto && -f $repo/apps/load/CMakeLists.txt) ]]; then
  want_load=1
fi
if ((do_build)); then
  if [[ ! -f $build/build.ninja ]]; then
    launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
    cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
  fi
  cmake --build "$build" --target "${targets[@]}"
  if ((want_load)); then
    if ! cmake --build "$build" --target dusty-load; then
      [[ $load == dusty-load ]] && { echo "macro: dusty-load does not build" >&2; exit 1; }
      echo "macro: dusty-load does not build; using wrk and h2load" >&2
    fi
  fi
fi
hello=$build/apps/hello/dusty-hello
ceiling=$build/perf/macro/dusty-ceiling
dusty_load=$build/apps/load/dusty-load
[[ -x $hello ]] || { echo "macro: $hello not found (build it or drop --no-build)" >&2; exit 1; }
[[ -x $ceiling ]] || ceiling=
{ ((want_load)) && [[ -x $dusty_load ]]; } || dusty_load=
[[ $load != dusty-load || -n $dusty_load ]] || { echo "macro: $build/apps/load/dusty-load not found" >&2; exit 1; }
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
[[ $build_type == Release ]] || echo "macro: WARNING: $build is a '${build_type:-unknown}' build, not Release" >&2

commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
# Changes under perf/ do not change the binaries; anything else uncommitted is worth saying.
[[ -n $(git -C "$repo" status --porcelain --untracked-files=no -- . ':!perf' 2>/dev/null) ]] &&
  commit+=" + uncommitted changes"
((do_build)) || commit="checkout at $commit; dusty-hello built $(date -u -r "$hello" '+%Y-%m-%d %H:%M UTC') (--no-build)"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//; s/ \{2,\}/ /g')
host=$(hostname -s 2>/dev/null || hostname)
meta=$(python3 - "$cpu" "$(grep -c '^processor' /proc/cpuinfo)" "$(nproc)" "$(uname -r)" "$host" \
  "$(date -u '+%Y-%m-%d %H:%M UTC')" "$commit" "${build_type:-unknown} build" "$cmdline" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" <<'EOF'
import json, sys
a = sys.argv[1:]
print(json.dumps({"machine": {"cpu": a[0], "cpus": int(a[1]), "usable_cpus": int(a[2]), "kernel": a[3], "host": a[4]},
                  "date": a[5], "commit": a[6], "build": a[7], "command": a[8], "loadavg_before": a[9]}))
EOF
)
echo "machine: $cpu, $(nproc) CPUs, kernel $(uname -r); dusty $commit; load average $(cut -d' ' -f1-3 /proc/loadavg)"

args=(--hello "$hello" --ceiling "$ceiling" --dusty-load "$dusty_load" --confdir "$here" --servers "$servers"
  --load "$load" --out "$out" --meta "$meta")
[[ -z $only ]] || args+=(--only "$only")
[[ -z $min_ratio ]] || args+=(--min-ratio "$min_ratio")
# In the background so a SIGTERM to this script reaches the runner, which stops its servers.
python3 "$here/macro.py" "${args[@]}" "${pass[@]}" &
runner=$!
trap 'kill -TERM $runner 2>/dev/null; wait $runner; exit 143' TERM
trap 'kill -INT $runner 2>/dev/null; wait $runner; exit 130' INT
status=0
wait $runner || status=$?
trap - TERM INT
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
# 2 = below the floor: the results are still worth recording.
((status == 0 || status == 2)) || exit $status

((record)) && record_results "$out/results.json"
exit $status
