#!/usr/bin/env bash
# Load generators side by side: dusty-load (the dusty client's hot path) against wrk, the
# same server, the same connections, one pinned CPU each (issues 4 and 6; perf/RESULTS.md,
# "Load generators").
#
#   perf/http/run-client-vs-wrk.sh                  # nginx, 3 rounds x 5 s, c = 16 and 256, pipeline 1 and 16
#   perf/http/run-client-vs-wrk.sh --record         # also write the table into perf/RESULTS.md
#   perf/http/run-client-vs-wrk.sh --server dusty   # against dusty-hello --shards 1 instead
#
# Options:
#   --build-dir DIR     Release build directory holding apps/load/dusty-load (and
#                       apps/hello/dusty-hello); default build/perf-release
#   --no-build          use the binaries already built there
#   --server S          nginx (default: one worker, the config below) or dusty
#   --rounds N          rounds (default 3); each round runs both generators once per case,
#                       in alternating order (A B, then B A, ...)
#   --duration S        seconds per run (default 5); a 1 s warm-up precedes each round
#   --connections LIST  comma-separated connection counts (default 16,256)
#   --pipelines LIST    comma-separated depths (default 1,16); wrk pipelines with a Lua
#                       script that writes DEPTH requests at once and waits for all answers
#   --server-cpu N      the server's CPU (default 0); --client-cpu N the generators' (default 1)
#   --out DIR           results.md and runs.tsv (default BUILD_DIR/client-vs-wrk)
#   --record            replace the "Load generators" section of perf/RESULTS.md
#   --record-from DIR   record DIR/results.md from an earlier run instead of running
#
# Both generators get one thread on the same CPU (wrk -t1, dusty-load -t 1) and the same
# request (GET / with only a Host field: the same bytes). Each run reports req/s and the
# generator's own CPU time (user + sys of the child), so "requests per generator
# CPU-second" shows which generator is cheaper even when the server is the limit. Ratios
# are dusty-load / wrk, computed round by round; medians with min-max are reported.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build/perf-release
do_build=1
record=0
record_from=
server=nginx
pass=()
while (($#)); do
  case $1 in
    --build-dir) build=$(realpath -m "$2"); shift 2 ;;
    --no-build) do_build=0; shift ;;
    --server) server=$2; pass+=(--server "$2"); shift 2 ;;
    --record) record=1; shift ;;
    --record-from) record_from=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) pass+=("$1"); shift ;;
  esac
done

record_results() {
  python3 - "$repo/perf/RESULTS.md" "$1" <<'EOF'
# Replace what lies between the load-generator markers of perf/RESULTS.md (or append the
# section at the end); everything else in the file is left as it is.
import os, sys
path, fragment = sys.argv[1], open(sys.argv[2]).read().strip()
begin = "<!-- load-generators:begin (perf/http/run-client-vs-wrk.sh --record) -->"
end = "<!-- load-generators:end -->"
text = open(path).read() if os.path.exists(path) else "# Results\n"
block = f"{begin}\n{fragment}\n{end}"
if begin in text and end in text:
    text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n## Load generators: dusty-load vs wrk (issues 4 and 6)\n\n" + block + "\n"
open(path + ".tmp", "w").write(text)
os.replace(path + ".tmp", path)
print(f"recorded in {path}")
EOF
}

if [[ -n $record_from ]]; then
  [[ -f $record_from/results.md ]] || { echo "run-client-vs-wrk: $record_from/results.md not found" >&2; exit 1; }
  record_results "$record_from/results.md"
  exit 0
fi

for tool in wrk taskset python3; do
  command -v "$tool" >/dev/null || { echo "run-client-vs-wrk: $tool is not installed" >&2; exit 1; }
done
[[ $server == nginx ]] && ! command -v nginx >/dev/null && { echo "run-client-vs-wrk: nginx is not installed" >&2; exit 1; }
if (($(nproc) < 2)); then
  echo "run-client-vs-wrk: needs 2 CPUs (server and generator on different CPUs)" >&2
  exit 1
fi

if ((do_build)); then
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDUSTY_BUILD_TESTS=OFF -DDUSTY_BUILD_PERF=OFF >/dev/null
  cmake --build "$build" --target dusty-load dusty-hello
fi
load=$build/apps/load/dusty-load
hello=$build/apps/hello/dusty-hello
[[ -x $load ]] || { echo "run-client-vs-wrk: $load not found (build it or drop --no-build)" >&2; exit 1; }
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
[[ $build_type == Release ]] || echo "run-client-vs-wrk: WARNING: $build is a '${build_type:-unknown}' build, not Release" >&2

commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n $(git -C "$repo" status --porcelain --untracked-files=no -- . ':!perf' 2>/dev/null) ]] && commit+=" + uncommitted changes"
((do_build)) || commit="checkout at $commit; dusty-load built $(date -u -r "$load" '+%Y-%m-%d %H:%M UTC') (--no-build)"
machine=$(cat <<EOF
| | |
|---|---|
| date | $(date -u '+%Y-%m-%d %H:%M UTC') |
| cpu | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(grep -c '^processor' /proc/cpuinfo) CPUs ($(nproc) usable) |
| kernel | $(uname -r) |
| dusty | $commit, $build_type build |
| server | $([[ $server == nginx ]] && nginx -v 2>&1 | sed 's/^nginx version: //' || echo "dusty-hello --shards 1") |
| wrk | $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-3) |
| load average before | $(cut -d' ' -f1-3 /proc/loadavg) |
EOF
)
echo "$machine"
out=$build/client-vs-wrk
for ((i = 0; i < ${#pass[@]}; i++)); do
  [[ ${pass[i]} == --out ]] && out=$(realpath -m "${pass[i + 1]}")
done
mkdir -p "$out"

python3 - "$load" "$hello" "$out" "$machine" "$0 ${pass[*]:-}" "${pass[@]}" <<'EOF' &
import argparse, json, os, re, resource, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

load, hello, out, machine, command = sys.argv[1:6]
ap = argparse.ArgumentParser()
ap.add_argument("--server", default="nginx", choices=["nginx", "dusty"])
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--duration", type=int, default=5)
ap.add_argument("--connections", default="16,256")
ap.add_argument("--pipelines", default="1,16")
ap.add_argument("--server-cpu", type=int, default=0)
ap.add_argument("--client-cpu", type=int, default=1)
ap.add_argument("--out")
a = ap.parse_args(sys.argv[6:])
conns = [int(x) for x in a.connections.split(",")]
depths = [int(x) for x in a.pipelines.split(",")]
scratch = tempfile.mkdtemp(prefix="client-vs-wrk-")

# The same answer as dusty-hello's GET /: see perf/macro/nginx.conf.in for the reasoning.
NGINX_CONF = """daemon off;
master_process on;
worker_processes 1;
pid @PREFIX@/nginx.pid;
error_log @PREFIX@/error.log crit;
events { worker_connections 16384; use epoll; multi_accept on; accept_mutex off; }
http {
  access_log off; server_tokens off; tcp_nodelay on;
  keepalive_requests 1000000; keepalive_timeout 300s;
  client_body_temp_path @PREFIX@/cb; proxy_temp_path @PREFIX@/p; fastcgi_temp_path @PREFIX@/f;
  uwsgi_temp_path @PREFIX@/u; scgi_temp_path @PREFIX@/s;
  server {
    listen 127.0.0.1:@PORT@ backlog=4096;
    location / { default_type text/plain; return 200 "Hello, World!"; }
  }
}
"""
# DEPTH requests written at once, all answers awaited (TechEmpower's pipeline.lua).
WRK_LUA = """init = function(args)
  local depth = tonumber(args[1]) or 1
  if depth > 1 then
    local batch = {}
    for i = 1, depth do batch[i] = wrk.format() end
    local bytes = table.concat(batch)
    request = function() return bytes end
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT requests=%d duration_us=%d errors=%d p99_us=%d\\n", summary.requests,
    summary.duration, e.connect + e.read + e.write + e.timeout + e.status, latency:percentile(99)))
end
"""
lua = os.path.join(scratch, "wrk.lua")
open(lua, "w").write(WRK_LUA)

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p

def wait_port(port, limit=10):
    until = time.time() + limit
    while time.time() < until:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False

def start_server():
    port = free_port()
    if a.server == "nginx":
        prefix = os.path.join(scratch, "nginx")
        os.makedirs(prefix, exist_ok=True)
        open(os.path.join(prefix, "nginx.conf"), "w").write(NGINX_CONF.replace("@PREFIX@", prefix).replace("@PORT@", str(port)))
        cmd = ["taskset", "-c", str(a.server_cpu), "nginx", "-p", prefix, "-c", prefix + "/nginx.conf", "-e", prefix + "/error.log"]
    else:
        cmd = ["taskset", "-c", str(a.server_cpu), hello, "--shards", "1", "--address", "127.0.0.1", "--port", str(port)]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    if not wait_port(port):
        p.kill()
        sys.exit(f"run-client-vs-wrk: {a.server} did not start")
    return p, port

def stop_server(p):
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(10)
    except Exception:
        os.killpg(p.pid, signal.SIGKILL)

def timed(cmd):
    """Runs cmd; returns (stdout, CPU seconds the child used)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=a.duration + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode != 0:
        sys.exit(f"run-client-vs-wrk: {' '.join(cmd)} failed: {r.stderr.strip()}")
    return r.stdout, cpu

def run_load(port, c, depth, seconds):
    stdout, cpu = timed(["taskset", "-c", str(a.client_cpu), load, "-t", "1", "-c", str(c), "-d", f"{seconds}s",
                         "--pipeline", str(depth), "--json", f"http://127.0.0.1:{port}/"])
    j = json.loads(stdout)
    return {"rps": j["requests_per_sec"], "cpu": cpu, "requests": j["requests"], "errors": j["errors_total"] + j["status_5xx"],
            "p99_ms": j["latency_us"]["p99"] / 1e3}

def run_wrk(port, c, depth, seconds):
    stdout, cpu = timed(["taskset", "-c", str(a.client_cpu), "wrk", "-t1", f"-c{c}", f"-d{seconds}s", "-s", lua,
                         f"http://127.0.0.1:{port}/", "--", str(depth)])
    m = re.search(r"WRK_RESULT requests=(\d+) duration_us=(\d+) errors=(\d+) p99_us=(\d+)", stdout)
    if not m:
        sys.exit("run-client-vs-wrk: no WRK_RESULT line:\n" + stdout)
    n, us, err, p99 = map(int, m.groups())
    return {"rps": n / (us / 1e6), "cpu": cpu, "requests": n, "errors": err, "p99_ms": p99 / 1e3}

runners = {"dusty-load": run_load, "wrk": run_wrk}
results = {}  # (c, depth) -> gen -> [run]
tsv = open(os.path.join(out, "runs.tsv"), "w")
tsv.write("round\tconnections\tpipeline\tgenerator\treq_s\tcpu_s\trequests\terrors\tp99_ms\n")
server, port = start_server()
try:
    for rnd in range(a.rounds):
        for c in conns:
            for depth in depths:
                run_wrk(port, c, depth, 1)  # warm-up: connections, caches, the server's pools
                order = ["dusty-load", "wrk"] if rnd % 2 == 0 else ["wrk", "dusty-load"]
                for gen in order:
                    r = runners[gen](port, c, depth, a.duration)
                    results.setdefault((c, depth), {}).setdefault(gen, []).append(r)
                    line = f"{rnd}\t{c}\t{depth}\t{gen}\t{r['rps']:.0f}\t{r['cpu']:.2f}\t{r['requests']}\t{r['errors']}\t{r['p99_ms']:.2f}"
                    tsv.write(line + "\n")
                    tsv.flush()
                    print(line, flush=True)
finally:
    stop_server(server)
    shutil.rmtree(scratch, ignore_errors=True)

def k(x):
    return f"{x / 1e6:.2f}M" if x >= 1e6 else f"{x / 1e3:.1f}k"

def span(xs, fmt):
    return f"{fmt(statistics.median(xs))} ({fmt(min(xs))}–{fmt(max(xs))})"

rows = []
for (c, depth), by in sorted(results.items()):
    dl, wr = by["dusty-load"], by["wrk"]
    ratio = [x["rps"] / y["rps"] for x, y in zip(dl, wr)]
    eff = lambda rs: [r["requests"] / r["cpu"] for r in rs if r["cpu"] > 0]
    errs = sum(r["errors"] for r in dl + wr)
    rows.append(f"| {c} | {depth} | {span([r['rps'] for r in dl], k)} | {span([r['rps'] for r in wr], k)} | "
                f"{span(ratio, lambda x: f'{x:.2f}x')} | {k(statistics.median(eff(dl)))} / {k(statistics.median(eff(wr)))} | "
                f"{statistics.median([r['cpu'] for r in dl]) / a.duration * 100:.0f}% / {statistics.median([r['cpu'] for r in wr]) / a.duration * 100:.0f}% | "
                f"{statistics.median([r['p99_ms'] for r in dl]):.1f} / {statistics.median([r['p99_ms'] for r in wr]):.1f} | {errs} |")
server_name = "nginx (1 worker)" if a.server == "nginx" else "dusty-hello --shards 1"
md = f"""Command: `{command.strip()}`

{machine}

{a.rounds} rounds × {a.duration} s per run, GET / from {server_name} on CPU {a.server_cpu}; each generator alone on CPU {a.client_cpu} with one thread (`dusty-load -t 1`, `wrk -t1`). Pipelining: both write DEPTH requests at once per connection and the next DEPTH when all are answered (wrk through a Lua script, dusty-load `--pipeline DEPTH`).

| connections | pipeline | dusty-load req/s median (min–max) | wrk req/s median (min–max) | dusty-load / wrk, per round | requests per generator CPU-s, dusty-load / wrk | generator CPU use, dusty-load / wrk | p99 ms, dusty-load / wrk | errors |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|
""" + "\n".join(rows) + "\n"
open(os.path.join(out, "results.md"), "w").write(md)
print()
print(md)
EOF
runner=$!
trap 'kill -TERM $runner 2>/dev/null; wait $runner; exit 143' TERM
trap 'kill -INT $runner 2>/dev/null; wait $runner; exit 130' INT
status=0
wait $runner || status=$?
trap - TERM INT
((status == 0)) || exit $status
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
((record)) && record_results "$out/results.md"
exit 0
