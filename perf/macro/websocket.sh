#!/usr/bin/env bash
# WebSocket (issue 12): echo messages/s of dusty-hello's /ws beside a Boost.Beast echo
# server (perf/macro/beast_echo.cpp, one thread) and a Node `ws` one (node_ws_echo.js),
# each on --server-cpu, dusty-load --ws on --client-cpu, contenders interleaved round by
# round; medians, min-max and ratios. Then, with dusty-hello on two shards:
#   broadcast: one message to 10,000 subscribers of /broadcast (ws::topics) over both
#              shards, time from the send until the last subscriber has it (dusty-ws-crowd,
#              a process of its own on two shards);
#   memory:    the server's resident memory per idle session (10,000 sessions), without
#              and with permessage-deflate.
#
#   perf/macro/websocket.sh --build-dir build/release [--rounds 3] [--duration 5] [--backend io_uring]
#                           [--connections 256] [--pipeline 1]
# Prints markdown tables; records nothing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build/release
rounds=3
duration=5
backend=io_uring
server_cpu=0
client_cpu=1
connections=256
pipeline=1
while (($#)); do
  case $1 in
    --build-dir) build=$(realpath -m "$2"); shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --backend) backend=$2; shift 2 ;;
    --server-cpu) server_cpu=$2; shift 2 ;;
    --client-cpu) client_cpu=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --pipeline) pipeline=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "websocket.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
hello=$build/apps/hello/dusty-hello
load=$build/apps/load/dusty-load
beast=$build/perf/macro/beast-echo
crowd=$build/perf/macro/dusty-ws-crowd
for f in "$hello" "$load" "$beast" "$crowd"; do
  [[ -x $f ]] || { echo "websocket.sh: $f not found (build it)" >&2; exit 1; }
done
for tool in node taskset python3; do
  command -v $tool >/dev/null || { echo "websocket.sh: $tool not found" >&2; exit 1; }
done
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}

source "$here/lib.sh"

dusty_port=$(free_port)
taskset -c "$server_cpu" "$hello" --port "$dusty_port" --address 127.0.0.1 --shards 1 --backend "$backend" \
  >"$tmp/dusty.log" 2>&1 &
pids+=($!)
beast_port=$(free_port)
taskset -c "$server_cpu" "$beast" "$beast_port" 1 >"$tmp/beast.log" 2>&1 &
pids+=($!)
node_port=$(free_port)
taskset -c "$server_cpu" node "$here/node_ws_echo.js" "$node_port" >"$tmp/node.log" 2>&1 &
pids+=($!)
for p in $dusty_port $beast_port $node_port; do wait_port "$p"; done

# ws_rate PORT SIZE SECONDS -> messages/s (errors reported on stderr, with the contender's name)
ws_rate() {
  local out
  out=$(taskset -c "$client_cpu" "$load" --ws --size "$2" -c "$connections" --pipeline "$pipeline" -d "$3s" \
    --backend "$backend" --json "ws://127.0.0.1:$1/ws")
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])
if r["errors_total"]:
    names = {sys.argv[3]: "dusty", sys.argv[4]: "beast", sys.argv[5]: "node"}
    print("websocket.sh: errors from", names.get(sys.argv[2], sys.argv[2]), r["errors"], file=sys.stderr)
print(r["messages_per_sec"])' "$out" "$1" "$dusty_port" "$beast_port" "$node_port"
}

echo "## WebSocket echo: dusty-hello /ws ($backend, 1 shard) vs Boost.Beast (1 thread) vs Node ws, $(nproc) CPUs, $(uname -r)"
echo
echo "$connections connections, closed loop, pipeline $pipeline, $rounds rounds of ${duration}s, medians (min-max)."
echo
echo "| message | dusty msg/s | Beast msg/s | Node ws msg/s | dusty / Beast | dusty / Node |"
echo "|---|---|---|---|---|---|"
for size in 64 16384; do
  d=(); b=(); n=()
  for p in $dusty_port $beast_port $node_port; do ws_rate "$p" "$size" 1 >/dev/null; done  # warm-up
  for r in $(seq "$rounds"); do
    d+=("$(ws_rate "$dusty_port" "$size" "$duration")")
    b+=("$(ws_rate "$beast_port" "$size" "$duration")")
    n+=("$(ws_rate "$node_port" "$size" "$duration")")
    echo "$size B round $r: dusty ${d[-1]}, beast ${b[-1]}, node ${n[-1]} msg/s" >&2
  done
  python3 - "$size" "${d[*]}" "${b[*]}" "${n[*]}" <<'PY'
import statistics, sys
size, d, b, n = sys.argv[1], *([float(x) for x in a.split()] for a in sys.argv[2:5])
m = statistics.median
cell = lambda v: f"{m(v):,.0f} ({min(v):,.0f}-{max(v):,.0f})"
per_round = lambda x, y: ", ".join(f"{p / q:.2f}" for p, q in zip(x, y))
print(f"| {size} B | {cell(d)} | {cell(b)} | {cell(n)} | {m(d) / m(b):.2f} ({per_round(d, b)}) | {m(d) / m(n):.2f} ({per_round(d, n)}) |")
PY
done
echo

# A dusty-hello on two shards (no pinning: the crowd shares the CPUs), started afresh.
start_two_shards() {
  two_port=$(free_port)
  "$hello" --port "$two_port" --address 127.0.0.1 --shards 2 --backend "$backend" >"$tmp/two.log" 2>&1 &
  two_pid=$!
  pids+=($two_pid)
  wait_port "$two_port"
}
stop_two_shards() {
  kill -INT "$two_pid" 2>/dev/null || true
  wait "$two_pid" 2>/dev/null || true
}
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

echo "## Broadcast: one message to 10,000 subscribers over two shards"
echo
start_two_shards
out=$("$crowd" "ws://127.0.0.1:$two_port/broadcast" 10000 --shards 2 --broadcast 7)
stop_two_shards
python3 - "$out" <<'PY'
import statistics, sys
lines = sys.argv[1].split("\n")
opened = next(l for l in lines if l.startswith("open")).split()
ms = [float(l.split()[2]) for l in lines if l.startswith("round")]
print(f"10,000 sessions opened in {float(opened[2]):.2f} s; delivery to all 10,000, {len(ms)} rounds:")
print(f"median {statistics.median(ms):.0f} ms (min {min(ms):.0f}, max {max(ms):.0f})")
PY
echo

echo "## Resident memory per idle session (10,000 sessions, dusty-hello on two shards)"
echo
echo "| permessage-deflate | server RSS before | with 10,000 idle sessions | per session |"
echo "|---|---|---|---|"
for deflate in no yes; do
  start_two_shards
  before=$(rss_kib "$two_pid")
  flag=()
  [[ $deflate == yes ]] && flag=(--deflate)
  "$crowd" "ws://127.0.0.1:$two_port/ws" 10000 --shards 2 --hold 4 "${flag[@]}" >"$tmp/crowd.out" &
  crowd_pid=$!
  for _ in $(seq 600); do grep -q '^open' "$tmp/crowd.out" 2>/dev/null && break; sleep 0.1; done
  sleep 2
  during=$(rss_kib "$two_pid")
  wait "$crowd_pid"
  stop_two_shards
  python3 -c "print(f'| $deflate | {$before / 1024:.1f} MiB | {$during / 1024:.1f} MiB | {($during - $before) * 1024 / 10000:,.0f} bytes |')"
done
