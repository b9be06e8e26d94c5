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

source "$here/lib.sh"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

dusty_port=$(free_port)
taskset -c "$server_cpu" "$hello" --port "$dusty_port" --address 127.0.0.1 --shards 1 \
  --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" >"$tmp/dusty.log" 2>&1 &
pids+=($!)

nginx_port=$(free_port)
nginx_conf "127.0.0.1:$nginx_port ssl" "    ssl_certificate $tmp/cert.pem;
    ssl_certificate_key $tmp/key.pem;
    ssl_protocols TLSv1.3;
    ssl_session_tickets on;
    location = /plaintext { default_type text/plain; return 200 \"Hello, World!\"; }"
taskset -c "$server_cpu" nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
pids+=($!)
wait_port "$dusty_port"
wait_port "$nginx_port"

run() { wrk_rate "$client_cpu" "$conns" "$duration" "https://127.0.0.1:$1/plaintext"; }  # port -> requests/s

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

ratio_table "HTTPS keep-alive plaintext, $conns connections, wrk, $rounds x $duration s" "req/s" "${dusty[*]}" "${nginx[*]}"
echo
echo "crypto speed of this machine (one core):"
openssl speed -seconds 1 ecdsap256 ecdhx25519 2>/dev/null | grep -E "ecdsa|ecdh"
openssl speed -seconds 1 -bytes 16384 -evp aes-256-gcm 2>/dev/null | grep -E "^AES"
