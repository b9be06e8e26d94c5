#!/usr/bin/env bash
# HTTPS keep-alive plaintext (issue 11): dusty-hello --tls-cert/--tls-key beside nginx
# with the same ECDSA P-256 certificate, TLS 1.3 only (both then agree on
# TLS_AES_256_GCM_SHA384 with wrk's OpenSSL), one worker each pinned to --server-cpu, wrk
# pinned to --client-cpu; contenders interleaved round by round; medians, min-max and the
# ratio. The machine's crypto speed (`openssl speed -seconds 1 ecdsap256 ecdhx25519`, and
# AES-256-GCM over 16 KiB) is printed beside the figures, as it bounds them.
#
#   perf/macro/https.sh --build-dir build/release [--rounds 3] [--duration 5] [--conns 256]
#
# Only the keep-alive workload: after the first request each connection only encrypts and
# decrypts records, so this measures the record path (and the cost of dusty's BIO copy,
# see net/tls/stream.hpp), not handshakes. Prints a markdown table; records nothing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build/release
rounds=3
duration=5
conns=256
server_cpu=0
client_cpu=1
while (($#)); do
  case $1 in
    --build-dir) build=$(realpath -m "$2"); shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --server-cpu) server_cpu=$2; shift 2 ;;
    --client-cpu) client_cpu=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "https.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
hello=$build/apps/hello/dusty-hello
[[ -x $hello ]] || { echo "https.sh: $hello not found" >&2; exit 1; }
for tool in nginx wrk openssl taskset; do
  command -v $tool >/dev/null || { echo "https.sh: $tool not found" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/dusty-https-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 200); do
    (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0
    sleep 0.05
  done
  echo "https.sh: nothing listens on $1" >&2
  exit 1
}

dusty_port=$(free_port)
taskset -c "$server_cpu" "$hello" --port "$dusty_port" --address 127.0.0.1 --shards 1 \
  --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" >"$tmp/dusty.log" 2>&1 &
pids+=($!)

nginx_port=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log crit;
events { worker_connections 4096; use epoll; multi_accept on; accept_mutex off; }
http {
  access_log off;
  server_tokens off;
  tcp_nodelay on;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port ssl backlog=4096;
    ssl_certificate $tmp/cert.pem;
    ssl_certificate_key $tmp/key.pem;
    ssl_protocols TLSv1.3;
    ssl_session_tickets on;
    location = /plaintext { default_type text/plain; return 200 "Hello, World!"; }
  }
}
EOF
taskset -c "$server_cpu" nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
pids+=($!)
wait_port "$dusty_port"
wait_port "$nginx_port"

run() {  # port -> requests/s
  local out
  out=$(taskset -c "$client_cpu" wrk -t1 -c"$conns" -d"${duration}s" "https://127.0.0.1:$1/plaintext")
  if grep -q "Non-2xx\|Socket errors" <<<"$out"; then
    echo "https.sh: errors against port $1:" >&2
    echo "$out" >&2
  fi
  awk '/^Requests\/sec/ {print $2}' <<<"$out"
}

# Warm-up, and a check that both answer over TLS 1.3.
for p in $dusty_port $nginx_port; do
  curl -s --cacert "$tmp/cert.pem" --tlsv1.3 "https://localhost:$p/plaintext" | grep -q "Hello, World!" ||
    { echo "https.sh: port $p does not answer over TLS 1.3" >&2; exit 1; }
  echo "port $p: $(openssl s_client -connect 127.0.0.1:$p </dev/null 2>/dev/null | grep -m1 -o 'Cipher is .*')" >&2
  taskset -c "$client_cpu" wrk -t1 -c"$conns" -d1s "https://127.0.0.1:$p/plaintext" >/dev/null
done

dusty=()
nginx=()
for r in $(seq "$rounds"); do
  dusty+=("$(run "$dusty_port")")
  nginx+=("$(run "$nginx_port")")
  echo "round $r: dusty ${dusty[-1]} req/s, nginx ${nginx[-1]} req/s" >&2
done

python3 - "${dusty[*]}" "${nginx[*]}" "$conns" "$duration" "$rounds" <<'EOF'
import statistics, sys
d = [float(x) for x in sys.argv[1].split()]
n = [float(x) for x in sys.argv[2].split()]
md, mn = statistics.median(d), statistics.median(n)
ratios = [a / b for a, b in zip(d, n)]
print(f"| HTTPS keep-alive plaintext, {sys.argv[3]} connections, wrk, {sys.argv[5]} x {sys.argv[4]} s | req/s median (min-max) |")
print("|---|---|")
print(f"| dusty (1 shard) | {md:,.0f} ({min(d):,.0f}-{max(d):,.0f}) |")
print(f"| nginx (1 worker) | {mn:,.0f} ({min(n):,.0f}-{max(n):,.0f}) |")
print(f"| dusty / nginx | {md / mn:.2f} (per round {', '.join(f'{r:.2f}' for r in ratios)}) |")
EOF
echo
echo "crypto speed of this machine (one core):"
openssl speed -seconds 1 ecdsap256 ecdhx25519 2>/dev/null | grep -E "ecdsa|ecdh"
openssl speed -seconds 1 -bytes 16384 -evp aes-256-gcm 2>/dev/null | grep -E "^AES"
