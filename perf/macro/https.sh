#!/usr/bin/env bash
# HTTPS against nginx (issue 11): dusty-hello --tls-cert/--tls-key on io_uring and on
# epoll beside nginx with the same ECDSA P-256 certificate, TLS 1.3 only, one worker each
# pinned to --server-cpu, the client pinned to --client-cpu; contenders interleaved round
# by round. Workloads:
#   keep-alive   wrk, --conns connections, GET /plaintext (the record path only)
#   full         h2load --h1 with "Connection: close": a new connection and a full
#                handshake per request (h2load does not resume sessions)
#   resumed      dusty-load with "Connection: close": each new connection resumes the
#                last session (TLS 1.3 ticket, psk_dhe_ke: still one X25519)
#   1mib         wrk, 16 connections, GET /bytes/1m (nginx: a 1 MiB file)
# Each figure is requests/s and the server's CPU time per request (utime+stime of the
# serving process from /proc, divided by the requests answered): with one client core
# against one server core the handshake workloads are bound by the client, which does
# more work per handshake than the server (an ECDSA verify, ~80 us here), so requests/s
# ratios stay near 1 and the CPU per request says what each server could do.
# The machine's crypto speed is printed beside the figures, as it bounds them.
#
#   perf/macro/https.sh --build-dir build/release [--rounds 3] [--duration 5] [--conns 256]
#                       [--workloads keep-alive,full,resumed,1mib]
#                       [--server-cpu 0] [--client-cpu 1] [--client-threads 1] [--nginx-tickets N]
# dusty sends one TLS 1.3 ticket per handshake (tls.tickets_per_handshake), nginx OpenSSL's
# two; --nginx-tickets 1 gives nginx `ssl_conf_command NumTickets 1` to compare like with like.
# To make the server the bottleneck on a 2-CPU machine, give the client both CPUs and
# two threads (--client-cpu 0,1 --client-threads 2): the server then shares its CPU with
# one client thread, and requests/s compare the servers' CPU cost.
#
# Prints markdown tables; records nothing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build/release
rounds=3
duration=5
conns=256
server_cpu=0
client_cpu=1
client_threads=1
nginx_tickets=
workloads=keep-alive,full,resumed,1mib
while (($#)); do
  case $1 in
    --build-dir) build=$(realpath -m "$2"); shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --server-cpu) server_cpu=$2; shift 2 ;;
    --client-cpu) client_cpu=$2; shift 2 ;;
    --client-threads) client_threads=$2; shift 2 ;;
    --nginx-tickets) nginx_tickets=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "https.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
hello=$build/apps/hello/dusty-hello
load=$build/apps/load/dusty-load
[[ -x $hello ]] || { echo "https.sh: $hello not found" >&2; exit 1; }
[[ -x $load ]] || { echo "https.sh: $load not found" >&2; exit 1; }
for tool in nginx wrk h2load openssl taskset; do
  command -v $tool >/dev/null || { echo "https.sh: $tool not found" >&2; exit 1; }
done

source "$here/lib.sh"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
mkdir -p "$tmp/www"
head -c $((1 << 20)) /dev/zero | tr '\0' x >"$tmp/www/1m"

declare -A port pid
for b in io_uring epoll; do
  port[$b]=$(free_port)
  taskset -c "$server_cpu" "$hello" --port "${port[$b]}" --address 127.0.0.1 --shards 1 --backend $b \
    --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" >"$tmp/dusty-$b.log" 2>&1 &
  pids+=($!)
  pid[$b]=$!
done

port[nginx]=$(free_port)
nginx_conf "127.0.0.1:${port[nginx]} ssl" "    ssl_certificate $tmp/cert.pem;
    ssl_certificate_key $tmp/key.pem;
    ssl_protocols TLSv1.3;
    ssl_session_tickets on;
$([[ -n $nginx_tickets ]] && echo "    ssl_conf_command NumTickets $nginx_tickets;")
    location = /plaintext { default_type text/plain; return 200 \"Hello, World!\"; }
    location = /bytes/1m { default_type application/octet-stream; alias $tmp/www/1m; }"
taskset -c "$server_cpu" nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
pids+=($!)
for s in io_uring epoll nginx; do wait_port "${port[$s]}"; done
# The worker serves; the master only waits.
for _ in $(seq 100); do
  pid[nginx]=$(pgrep -P "$(cat "$tmp/nginx/nginx.pid" 2>/dev/null || echo 0)" nginx || true)
  [[ -n ${pid[nginx]} ]] && break
  sleep 0.05
done
[[ -n ${pid[nginx]} ]] || { echo "https.sh: no nginx worker" >&2; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run WORKLOAD SERVER -> "requests_per_second requests" (errors reported on stderr)
run() {
  local url="https://127.0.0.1:${port[$2]}" out
  case $1 in
    keep-alive|1mib)
      local path=/plaintext c=$conns
      [[ $1 == 1mib ]] && path=/bytes/1m c=16
      out=$(taskset -c "$client_cpu" wrk -t"$client_threads" -c"$c" -d"${duration}s" "$url$path")
      grep -q "Non-2xx\|Socket errors" <<<"$out" && echo "https.sh: errors from $2 ($1): $out" >&2
      awk '/^Requests\/sec/ {r = $2} / requests in / {n = $1} END {print r, n}' <<<"$out" ;;
    full)
      # h2load has no duration mode that works with Connection: close; a count sized
      # to take about --duration seconds instead.
      local n=$((duration * 700))
      out=$(taskset -c "$client_cpu" h2load --h1 -t "$client_threads" -n "$n" -c 16 -H 'Connection: close' "$url/plaintext" 2>&1)
      grep -q " $n succeeded" <<<"$out" || echo "https.sh: errors from $2 ($1): $(grep requests: <<<"$out")" >&2
      awk '{gsub(",", "")} /^finished in/ {r = $4} / succeeded/ {n = $8} END {print r, n}' <<<"$out" ;;
    resumed)
      out=$(taskset -c "$client_cpu" "$load" -t "$client_threads" -c 16 -d "${duration}s" --cacert "$tmp/cert.pem" \
        -H 'Connection: close' --json "https://localhost:${port[$2]}/plaintext" 2>/dev/null)
      python3 -c '
import json, sys
j = json.loads(sys.argv[1])
e, res, hs = j["errors"], j["tls_resumed"], j["tls_handshakes"]
if j["errors_total"] or res < 0.9 * hs:
    print(f"https.sh: {sys.argv[2]}: errors {e}, {res} of {hs} resumed", file=sys.stderr)
print(j["requests_per_sec"], j["requests"])' "$out" "$2" ;;
  esac
}

# Warm-up, and a check that each answers over TLS 1.3.
for s in io_uring epoll nginx; do
  curl -s --cacert "$tmp/cert.pem" --tlsv1.3 "https://localhost:${port[$s]}/plaintext" | grep -q "Hello, World!" ||
    { echo "https.sh: $s does not answer over TLS 1.3" >&2; exit 1; }
  [[ $(curl -s --cacert "$tmp/cert.pem" "https://localhost:${port[$s]}/bytes/1m" | wc -c) == $((1 << 20)) ]] ||
    { echo "https.sh: $s does not serve 1 MiB" >&2; exit 1; }
  taskset -c "$client_cpu" wrk -t1 -c"$conns" -d1s "https://127.0.0.1:${port[$s]}/plaintext" >/dev/null
done
echo "ciphers: wrk and dusty-load $(openssl s_client -connect 127.0.0.1:${port[nginx]} </dev/null 2>/dev/null |
  grep -m1 -o 'Cipher is .*'), h2load $(h2load --h1 -n 1 -c 1 "https://127.0.0.1:${port[nginx]}/plaintext" 2>/dev/null |
  grep -m1 -o 'Cipher: .*')" >&2

results=$tmp/results
: >"$results"
for w in ${workloads//,/ }; do
  for r in $(seq "$rounds"); do
    for s in io_uring epoll nginx; do
      c0=$(cpu_ticks "${pid[$s]}")
      read -r rate n < <(run "$w" "$s")
      c1=$(cpu_ticks "${pid[$s]}")
      echo "$w $s $r $rate $n $((c1 - c0))" >>"$results"
      echo "$w round $r: $s $rate req/s, $(( (c1 - c0) * 10000 / (n > 0 ? n : 1) )) us CPU/req" >&2
    done
  done
done

python3 - "$results" "$(getconf CLK_TCK)" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
tick_us = 1e6 / int(sys.argv[2])
data = {}
for w, s, r, rate, n, ticks in rows:
    data.setdefault(w, {}).setdefault(s, []).append((float(rate), int(n), int(ticks) * tick_us / max(int(n), 1)))
names = {"keep-alive": "keep-alive GET /plaintext", "full": "new connection per request, full handshake",
         "resumed": "new connection per request, resumed", "1mib": "1 MiB answers, 16 connections"}
print("| workload | server | req/s median (min-max) | / nginx (per round) | server CPU us/req | nginx CPU / this |")
print("|---|---|---|---|---|---|")
for w, by in data.items():
    ng = by["nginx"]
    for s in ("io_uring", "epoll", "nginx"):
        v = by[s]
        rates = [x[0] for x in v]
        cpu = statistics.median(x[2] for x in v)
        ncpu = statistics.median(x[2] for x in ng)
        label = "nginx" if s == "nginx" else f"dusty {s}"
        if s == "nginx":
            ratio, cratio = "", ""
        else:
            per = ", ".join(f"{a[0] / b[0]:.2f}" for a, b in zip(v, ng))
            ratio = f"{statistics.median(rates) / statistics.median(x[0] for x in ng):.2f} ({per})"
            cratio = f"{ncpu / cpu:.2f}"
        print(f"| {names.get(w, w)} | {label} | {statistics.median(rates):,.0f} ({min(rates):,.0f}-{max(rates):,.0f}) "
              f"| {ratio} | {cpu:,.0f} | {cratio} |")
PY
echo
echo "crypto speed of this machine (one core):"
openssl speed -seconds 1 ecdsap256 ecdhx25519 2>/dev/null | grep -E "ecdsa|ecdh"
openssl speed -seconds 1 -bytes 16384 -evp aes-256-gcm 2>/dev/null | grep -E "^AES"
