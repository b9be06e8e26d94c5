#!/usr/bin/env bash
# HTTP/2 (issue 14): h2load -c 64 -m 100 against dusty-hello, h2o and nginx in the same
# run, over h2c (prior knowledge on a plain port) and h2 (TLS, ALPN), on /plaintext and
# /json. One worker each, all pinned to --server-cpu; h2load (one thread) pinned to
# --client-cpu; contenders interleaved round by round; medians, min-max and the ratios.
#
#   perf/macro/h2.sh --build-dir build/release [--rounds 3] [--requests 200000] [--conns 64] [--streams 100]
#
# h2o serves fixed bodies from files (perf/macro/h2o.conf.in), nginx with `return 200`;
# dusty from its handlers. Prints markdown tables; records nothing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build/release
rounds=3
requests=200000
conns=64
streams=100
server_cpu=0
client_cpu=1
while (($#)); do
  case $1 in
    --build-dir) build=$(realpath -m "$2"); shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --streams) streams=$2; shift 2 ;;
    --server-cpu) server_cpu=$2; shift 2 ;;
    --client-cpu) client_cpu=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "h2.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
hello=$build/apps/hello/dusty-hello
[[ -x $hello ]] || { echo "h2.sh: $hello not found" >&2; exit 1; }
for tool in nginx h2o h2load openssl taskset; do
  command -v $tool >/dev/null || { echo "h2.sh: $tool not found" >&2; exit 1; }
done

source "$here/lib.sh"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
chmod 755 "$tmp"  # h2o started as root serves files as the user "nobody"
mkdir -p "$tmp/www"
printf 'Hello, World!' >"$tmp/www/plaintext.txt"
printf '{"message":"Hello, World!"}' >"$tmp/www/message.json"

declare -A port
for name in dusty dusty_tls h2o h2o_tls nginx nginx_tls; do port[$name]=$(free_port); done

taskset -c "$server_cpu" "$hello" --port "${port[dusty]}" --address 127.0.0.1 --shards 1 >"$tmp/dusty.log" 2>&1 &
pids+=($!)
taskset -c "$server_cpu" "$hello" --port "${port[dusty_tls]}" --address 127.0.0.1 --shards 1 \
  --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" >"$tmp/dusty_tls.log" 2>&1 &
pids+=($!)

# h2o: the shared configuration, plus a TLS listener.
sed -e "s#@PORT@#${port[h2o]}#; s#@WWW@#$tmp/www#" "$here/h2o.conf.in" >"$tmp/h2o.conf"
python3 - "$tmp/h2o.conf" "${port[h2o_tls]}" "$tmp" <<'PY'
import sys
path, port, tmp = sys.argv[1:]
text = open(path).read()
tls = f"""listen:
  host: 127.0.0.1
  port: {port}
  ssl:
    certificate-file: {tmp}/cert.pem
    key-file: {tmp}/key.pem
"""
open(path, "w").write(tls + text)
PY
taskset -c "$server_cpu" h2o -c "$tmp/h2o.conf" >"$tmp/h2o.log" 2>&1 &
h2o_pid=$!
pids+=($h2o_pid)
# h2o ignores lib.sh's SIGINT; it stops on SIGTERM.
trap 'kill -TERM $h2o_pid 2>/dev/null || true; cleanup' EXIT

nginx_conf "127.0.0.1:${port[nginx]} http2" "    location = /plaintext { default_type text/plain; return 200 \"Hello, World!\"; }
    location = /json { default_type application/json; return 200 '{\"message\":\"Hello, World!\"}'; }
  }
  server {
    listen 127.0.0.1:${port[nginx_tls]} ssl http2 backlog=4096;
    ssl_certificate $tmp/cert.pem;
    ssl_certificate_key $tmp/key.pem;
    location = /plaintext { default_type text/plain; return 200 \"Hello, World!\"; }
    location = /json { default_type application/json; return 200 '{\"message\":\"Hello, World!\"}'; }"
sed -i 's/^\(\s*\)keepalive_requests 1000000;/\1keepalive_requests 1000000;\n\1http2_max_requests 100000000;/' "$tmp/nginx/nginx.conf"
taskset -c "$server_cpu" nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
pids+=($!)
for p in "${port[@]}"; do wait_port "$p"; done

url() {  # name path
  case $1 in
    *_tls) echo "https://127.0.0.1:${port[$1]}$2" ;;
    *) echo "http://127.0.0.1:${port[$1]}$2" ;;
  esac
}
# h2load_rate NAME PATH -> requests/s (failures reported on stderr)
h2load_rate() {
  local out
  out=$(taskset -c "$client_cpu" h2load -t1 -c"$conns" -m"$streams" -n"$requests" "$(url "$1" "$2")" 2>&1)
  if ! grep -q " 0 failed, 0 errored" <<<"$out" || ! grep -q "h2" <<<"$(grep 'Application protocol' <<<"$out")"; then
    echo "h2.sh: trouble from $1 $2:" >&2
    grep -E "Application protocol|requests:|status codes" <<<"$out" >&2
  fi
  awk '/^finished in/ {print $4}' <<<"$out" | tr -d ,
}

# A check that every contender answers every path over HTTP/2, and a warm-up.
for name in dusty h2o nginx dusty_tls h2o_tls nginx_tls; do
  for path in /plaintext /json; do
    case $name in *_tls) mode=(--http2 -k) ;; *) mode=(--http2-prior-knowledge) ;; esac
    got=$(curl -s "${mode[@]}" -o /dev/null -w '%{http_code} %{http_version}' "$(url "$name" "$path")")
    [[ $got == "200 2" ]] || { echo "h2.sh: $name $path answers '$got', not 200 over HTTP/2" >&2; exit 1; }
  done
done

results=$tmp/results
for r in $(seq "$rounds"); do
  for path in /plaintext /json; do
    for name in dusty h2o nginx dusty_tls h2o_tls nginx_tls; do
      v=$(h2load_rate "$name" "$path")
      echo "$name $path $v" >>"$results"
      echo "round $r: $name $path $v req/s" >&2
    done
  done
done

python3 - "$results" "$conns" "$streams" "$rounds" "$requests" <<'PY'
import collections, statistics, sys
path, conns, streams, rounds, requests = sys.argv[1:]
v = collections.defaultdict(list)
for line in open(path):
    name, p, rate = line.split()
    v[(name, p)].append(float(rate))
print(f"HTTP/2, h2load -c {conns} -m {streams} -n {requests}, one worker each, {rounds} rounds (req/s median, min-max)")
print()
print("| workload | dusty | h2o | nginx | dusty / h2o | dusty / nginx |")
print("|---|---|---|---|---|---|")
for tls in ("", "_tls"):
    for p in ("/plaintext", "/json"):
        d, h, n = (v[(k + tls, p)] for k in ("dusty", "h2o", "nginx"))
        fmt = lambda xs: f"{statistics.median(xs):,.0f} ({min(xs):,.0f}-{max(xs):,.0f})"
        print(f"| {'h2 (TLS)' if tls else 'h2c'} {p} | {fmt(d)} | {fmt(h)} | {fmt(n)} | "
              f"{statistics.median(d) / statistics.median(h):.2f} | {statistics.median(d) / statistics.median(n):.2f} |")
PY
