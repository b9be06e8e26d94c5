# Shared by the stand-alone macro scripts (https.sh, static.sh): ports, waiting, cleanup,
# wrk runs and the common part of an nginx configuration. Source it; it sets `tmp` (a
# scratch directory removed on exit) and `pids` (processes stopped on exit).
tmp=$(mktemp -d /tmp/dusty-macro-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
  for _ in $(seq 200); do
    (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0
    sleep 0.05
  done
  echo "$(basename "$0"): nothing listens on $1" >&2
  exit 1
}

# wrk_rate CPU CONNS SECONDS URL -> requests/s (errors reported on stderr)
wrk_rate() {
  local out
  out=$(taskset -c "$1" wrk -t1 -c"$2" -d"$3s" "$4")
  if grep -q "Non-2xx\|Socket errors" <<<"$out"; then
    echo "$(basename "$0"): errors from $4:" >&2
    echo "$out" >&2
  fi
  awk '/^Requests\/sec/ {print $2}' <<<"$out"
}

# nginx_conf PORT_LINE SERVER_BODY: a one-worker nginx configuration under $tmp/nginx.
nginx_conf() {
  mkdir -p "$tmp/nginx"
  cat >"$tmp/nginx/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 1;
$( ((EUID == 0)) && echo "user root;" )
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
    listen $1 backlog=4096;
$2
  }
}
CONF
}

# ratio_table TITLE UNIT "dusty values" "nginx values" [label]: a markdown table of medians.
ratio_table() {
  python3 - "$@" <<'PY'
import statistics, sys
title, unit, d, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
d = [float(x) for x in d.split()]
n = [float(x) for x in n.split()]
md, mn = statistics.median(d), statistics.median(n)
ratios = [a / b for a, b in zip(d, n)]
print(f"| {title} | {unit} median (min-max) |")
print("|---|---|")
print(f"| dusty (1 shard) | {md:,.0f} ({min(d):,.0f}-{max(d):,.0f}) |")
print(f"| nginx (1 worker) | {mn:,.0f} ({min(n):,.0f}-{max(n):,.0f}) |")
print(f"| dusty / nginx | {md / mn:.2f} (per round {', '.join(f'{r:.2f}' for r in ratios)}) |")
PY
}
