#!/usr/bin/env bash
# Static files (issue 13): dusty-serve beside nginx (sendfile on, open_file_cache on), one
# shard / one worker each pinned to --server-cpu, the client pinned to --client-cpu,
# contenders interleaved round by round; medians, min-max and ratios.
#
#   perf/macro/static.sh --build-dir build/release [--rounds 3] [--duration 5] [--backend io_uring]
#
# Workloads:
#   1 KiB file, keep-alive, 256 connections (wrk)      - the small-file path (memory cache)
#   1 MiB file, keep-alive, 16 connections (wrk)       - sendfile / splice
#   one 1 GiB download (curl), MB/s and server CPU ms per GiB (utime + stime of the server)
#   1,000 clients downloading a 64 MiB file at once, at 1 MiB/s each: the server's resident
#   memory during the downloads (no per-connection file-sized buffer)
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
while (($#)); do
  case $1 in
    --build-dir) build=$(realpath -m "$2"); shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --backend) backend=$2; shift 2 ;;
    --server-cpu) server_cpu=$2; shift 2 ;;
    --client-cpu) client_cpu=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "static.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
serve=$build/apps/serve/dusty-serve
[[ -x $serve ]] || { echo "static.sh: $serve not found" >&2; exit 1; }
for tool in nginx wrk curl taskset python3; do
  command -v $tool >/dev/null || { echo "static.sh: $tool not found" >&2; exit 1; }
done

source "$here/lib.sh"

www=$tmp/www
mkdir -p "$www"
head -c 1024 /dev/urandom >"$www/1k.bin"
head -c $((1 << 20)) /dev/urandom >"$www/1m.bin"
head -c $((64 << 20)) /dev/urandom >"$www/64m.bin"
truncate -s 1G "$www/1g.bin"  # a sparse GiB: the page cache serves zeros, no disk in the way
chmod -R a+rX "$tmp"
# Into the page cache before anything is measured: the first reader of a sparse file pays
# for the zero pages it creates, which would be charged to whichever server goes first.
cat "$www"/*.bin >/dev/null

dusty_port=$(free_port)
taskset -c "$server_cpu" "$serve" "$www" --port "$dusty_port" --address 127.0.0.1 --shards 1 \
  --backend "$backend" >"$tmp/dusty.log" 2>&1 &
dusty_pid=$!
pids+=($dusty_pid)

nginx_port=$(free_port)
nginx_conf "127.0.0.1:$nginx_port" "    root $www;
    sendfile on;
    tcp_nopush on;
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 60s;
    etag on;"
taskset -c "$server_cpu" nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
pids+=($!)
wait_port "$dusty_port"
wait_port "$nginx_port"
nginx_worker=$(pgrep -P "$(cat "$tmp/nginx/nginx.pid")" | head -1)

# Both answer every file identically before anything is measured.
for f in 1k.bin 1m.bin; do
  for p in $dusty_port $nginx_port; do
    curl -sf "http://127.0.0.1:$p/$f" | cmp -s - "$www/$f" || { echo "static.sh: port $p serves $f wrongly" >&2; exit 1; }
  done
done

rates() {  # conns file -> fills dusty_r / nginx_r
  dusty_r=(); nginx_r=()
  for p in $dusty_port $nginx_port; do wrk_rate "$client_cpu" "$1" 1 "http://127.0.0.1:$p/$2" >/dev/null; done
  for r in $(seq "$rounds"); do
    dusty_r+=("$(wrk_rate "$client_cpu" "$1" "$duration" "http://127.0.0.1:$dusty_port/$2")")
    nginx_r+=("$(wrk_rate "$client_cpu" "$1" "$duration" "http://127.0.0.1:$nginx_port/$2")")
    echo "$2 round $r: dusty ${dusty_r[-1]} req/s, nginx ${nginx_r[-1]} req/s" >&2
  done
}

cpu_ms() { awk '{print ($14 + $15) * 1000 / '"$(getconf CLK_TCK)"'}' "/proc/$1/stat"; }

download() {  # port pid -> "MB/s cpu-ms"
  local before after secs
  before=$(cpu_ms "$2")
  secs=$(taskset -c "$client_cpu" curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$1/1g.bin")
  after=$(cpu_ms "$2")
  python3 -c "print(f'{1024 / $secs:.0f} {$after - $before:.0f}')"
}

# RSS of the server while 1,000 clients each download 64m.bin at 1 MiB/s.
rss_under_downloads() {  # port pid -> KiB
  local peak=0 rss clients=()
  for _ in $(seq 1000); do
    curl -s -o /dev/null --limit-rate 1M --max-time 8 "http://127.0.0.1:$1/64m.bin" &
    clients+=($!)
  done
  for _ in $(seq 12); do
    sleep 0.5
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$2/status")
    ((rss > peak)) && peak=$rss
  done
  wait "${clients[@]}" 2>/dev/null || true
  echo "$peak"
}

echo "## dusty-serve ($backend) vs nginx, $(nproc) CPUs, $(uname -r)"
echo
rates 256 1k.bin
ratio_table "1 KiB file, keep-alive, 256 connections, wrk, $rounds x $duration s" "req/s" "${dusty_r[*]}" "${nginx_r[*]}"
echo
rates 16 1m.bin
ratio_table "1 MiB file, keep-alive, 16 connections, wrk, $rounds x $duration s" "req/s" "${dusty_r[*]}" "${nginx_r[*]}"
echo
dusty_d=(); nginx_d=(); dusty_c=(); nginx_c=()
for r in $(seq "$rounds"); do
  read -r mb cpu <<<"$(download "$dusty_port" "$dusty_pid")"; dusty_d+=("$mb"); dusty_c+=("$cpu")
  read -r mb cpu <<<"$(download "$nginx_port" "$nginx_worker")"; nginx_d+=("$mb"); nginx_c+=("$cpu")
  echo "1g round $r: dusty ${dusty_d[-1]} MB/s ${dusty_c[-1]} ms, nginx ${nginx_d[-1]} MB/s ${nginx_c[-1]} ms" >&2
done
ratio_table "one 1 GiB download, curl, $rounds rounds" "MiB/s" "${dusty_d[*]}" "${nginx_d[*]}"
echo
ratio_table "server CPU per GiB sent (lower is better)" "ms" "${dusty_c[*]}" "${nginx_c[*]}"
echo
base_d=$(awk '/VmRSS/ {print $2}' "/proc/$dusty_pid/status")
base_n=$(awk '/VmRSS/ {print $2}' "/proc/$nginx_worker/status")
peak_d=$(rss_under_downloads "$dusty_port" "$dusty_pid")
peak_n=$(rss_under_downloads "$nginx_port" "$nginx_worker")
echo "| 1,000 clients downloading 64 MiB at 1 MiB/s | resident KiB before | peak during |"
echo "|---|---|---|"
echo "| dusty (1 shard) | $base_d | $peak_d |"
echo "| nginx (1 worker) | $base_n | $peak_n |"
