#!/usr/bin/env bash
# dusty-hello against nginx on one pinned CPU, wrk on another: plaintext req/s with and
# without pipelining, as dusty/nginx ratios (issue 3's benchmark; perf/RESULTS.md).
#
#   perf/http/run-vs-nginx.sh                 # 3 rounds x 10 s per run (about 5 minutes)
#   perf/http/run-vs-nginx.sh --quick         # 3 rounds x 3 s (about 1.5 minutes)
#   perf/http/run-vs-nginx.sh --record        # also write the table into perf/RESULTS.md
#
# Options (the rest go to bench_http.py; `perf/http/bench_http.py --help` lists them):
#   --build-dir DIR     Release build directory (default build/perf-release)
#   --no-build          use the dusty-hello already in the build directory
#   --quick             --duration 3 --warmup 1 --retries 1 (a CI-length run)
#   --record            replace the http section of perf/RESULTS.md with this run's table
#   --record-from DIR   run nothing; record DIR/results.md (an earlier run's --out) instead
#   --rounds N          rounds (default 3); every round runs each server once per workload
#   --duration S        measured seconds per run (default 10); --warmup S (default 2)
#   --connections N     wrk connections (default 256); --depth N pipelining depth (default 16)
#   --backends LIST     dusty backends (default io_uring,epoll; io_uring is skipped if unavailable)
#   --server-cpu N      CPU of the servers (default 0); --client-cpu N CPU of wrk (default 1)
#   --max-others F      run again a run during which other processes took more than F of the
#                       server CPU (default 0.10), up to --retries N times (default 2)
#   --min-ratio X       exit 2 if a median dusty/nginx ratio falls below X (a CI floor)
#   --out DIR           results.md, runs.tsv and every wrk log (default BUILD_DIR/http-vs-nginx)
#
# Each run starts its server fresh (dusty-hello --shards 1, or nginx with one worker; both
# under taskset -c SERVER_CPU), checks GET /plaintext answers 200 "Hello, World!", warms
# up, runs `taskset -c CLIENT_CPU wrk -t1 -cN -dS` and stops the server. A run with any
# socket error or non-200 answer fails the whole script (exit 1). Servers are stopped on
# exit, Ctrl-C or SIGTERM.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build/perf-release
do_build=1
record=0
record_from=
pass=()
while (($#)); do
  case $1 in
    --build-dir) build=$(realpath -m "$2"); shift 2 ;;
    --build-dir=*) build=$(realpath -m "${1#*=}"); shift ;;
    --no-build) do_build=0; shift ;;
    --quick) pass+=(--duration 3 --warmup 1 --retries 1); shift ;;
    --record) record=1; shift ;;
    --record-from) record_from=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) pass+=("$1"); shift ;;
  esac
done
# Writes a results.md fragment between the http markers of perf/RESULTS.md.
record_results() {
  python3 - "$repo/perf/RESULTS.md" "$1" <<'EOF'
# Replace what lies between the http markers of perf/RESULTS.md (or append the section);
# everything else in the file is left as it is.
import os, sys
path, fragment = sys.argv[1], open(sys.argv[2]).read().strip()
begin, end = "<!-- http-vs-nginx:begin (perf/http/run-vs-nginx.sh --record) -->", "<!-- http-vs-nginx:end -->"
text = open(path).read() if os.path.exists(path) else "# perf results\n"
block = f"{begin}\n{fragment}\n{end}"
if begin in text and end in text:
    text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n## HTTP: dusty-hello vs nginx (issue 3)\n\n" + block + "\n"
open(path + ".tmp", "w").write(text)
os.replace(path + ".tmp", path)
print(f"recorded in {path}")
EOF
}

if [[ -n $record_from ]]; then
  [[ -f $record_from/results.md ]] || { echo "run-vs-nginx: $record_from/results.md not found" >&2; exit 1; }
  record_results "$record_from/results.md"
  exit 0
fi

out=$build/http-vs-nginx
for ((i = 0; i < ${#pass[@]}; i++)); do
  case ${pass[i]} in
    --out) out=$(realpath -m "${pass[i + 1]}") ;;
    --out=*) out=$(realpath -m "${pass[i]#*=}") ;;
  esac
done

for tool in nginx wrk taskset python3; do
  command -v "$tool" >/dev/null || { echo "run-vs-nginx: $tool is not installed" >&2; exit 1; }
done
if (($(nproc) < 2)); then
  echo "run-vs-nginx: needs 2 CPUs (server and wrk on different CPUs); this process may use $(nproc)" >&2
  exit 1
fi

if ((do_build)); then
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDUSTY_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" --target dusty-hello
fi
hello=$build/apps/hello/dusty-hello
[[ -x $hello ]] || { echo "run-vs-nginx: $hello not found (build it or drop --no-build)" >&2; exit 1; }
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
[[ $build_type == Release ]] || echo "run-vs-nginx: WARNING: $build is a '${build_type:-unknown}' build, not Release" >&2

commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
# Changes under perf/ do not change the binary; anything else uncommitted is worth saying.
[[ -n $(git -C "$repo" status --porcelain --untracked-files=no -- . ':!perf' 2>/dev/null) ]] &&
  commit+=" + uncommitted changes"
# Without a build the binary may be older than the checkout: say when it was built.
((do_build)) || commit="checkout at $commit; binary built $(date -u -r "$hello" '+%Y-%m-%d %H:%M UTC') (--no-build)"
cores=$(grep -c '^processor' /proc/cpuinfo)
machine=$(cat <<EOF
| | |
|---|---|
| date | $(date -u '+%Y-%m-%d %H:%M UTC') |
| cpu | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $cores CPUs ($(nproc) usable) |
| kernel | $(uname -r) |
| dusty | $commit, $build_type build |
| nginx | $(nginx -v 2>&1 | sed 's/^nginx version: //') |
| wrk | $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-3) |
| load average before | $(cut -d' ' -f1-3 /proc/loadavg) |
EOF
)
echo "$machine"

cmd="perf/http/run-vs-nginx.sh${pass[*]:+ ${pass[*]}}"
# In the background so a SIGTERM to this script reaches the runner, which stops its servers.
python3 "$here/bench_http.py" --dusty "$hello" --nginx-conf "$here/nginx.conf.in" --lua "$here/wrk-bench.lua" \
  --out "$out" --machine "$machine" --command "$cmd" "${pass[@]}" &
runner=$!
trap 'kill -TERM $runner 2>/dev/null; wait $runner; exit 143' TERM
trap 'kill -INT $runner 2>/dev/null; wait $runner; exit 130' INT
status=0
wait $runner || status=$?
trap - TERM INT
((status == 0)) || exit $status
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

if ((record)); then
  record_results "$out/results.md"
fi
