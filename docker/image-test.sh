#!/usr/bin/env bash
# ./dev.sh image-test: builds the images (docker/image.sh; seconds when cached), then
# checks them from the host, on loopback only, and removes every container and image it
# made, whatever happens:
#   - dusty-hello serves /plaintext on a free 127.0.0.1 port under the engine's default
#     seccomp profile, which blocks io_uring: the log says it falls back to epoll
#   - the process runs as uid 10001, the HEALTHCHECK passes, every app starts (--help)
#   - under docker/seccomp-io_uring.json it serves on io_uring
#   - with --cpus 1 it starts one shard (the runtime follows the CPU quota)
#   - SIGTERM (engine stop) ends it gracefully: exit status 0 within 5 s
#   - dusty-httpbin serves /get from the same image
#   - a consumer (tests/package) builds FROM dusty-dev with find_package(dusty) and runs
# Prints one line per check and "N passed, N failed"; exits non-zero on any failure.
#   docker/image-test.sh [--worktree]    (--worktree: as docker/image.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=docker/lib.sh
source "$here/lib.sh"
dusty_engine_init

"$here/image.sh" "$@"

run_id=dusty-it-$$
containers=()
consumer_image=localhost/$run_id-consumer:latest
remove() { # <container>: at once, with SIGKILL
  if [[ $engine == podman ]]; then "${ENGINE[@]}" rm -f -t 0 "$1" >/dev/null; else docker rm -f "$1" >/dev/null; fi
}
cleanup() {
  local c
  for c in "${containers[@]}"; do remove "$c" 2>/dev/null || true; done
  "${ENGINE[@]}" rmi -f "$consumer_image" >/dev/null 2>&1 || true
}
trap cleanup EXIT

passed=0 failed=0
ok() { echo "ok   - $*"; passed=$((passed + 1)); }
not_ok() { echo "FAIL - $*"; failed=$((failed + 1)); }
check() { # <description> <command...>
  local what=$1; shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start <name> <port> [engine run flags...] [-- app args]: a detached container of the
# runtime image, its port 8080 published on 127.0.0.1:<port> only.
start() {
  local name=$run_id-$1 port=$2; shift 2
  containers+=("$name")
  local extra=()
  # podman runs healthchecks from systemd timers, and a machine without systemd logs an
  # error per container: no timer; the check runs by hand (healthy below).
  [[ $engine == podman ]] && extra=(--health-interval disable)
  "${ENGINE[@]}" run -d --name "$name" "${LIMITS[@]}" "${extra[@]}" -p "127.0.0.1:$port:8080" "$@" >/dev/null
}

logs() { "${ENGINE[@]}" logs "$run_id-$1" 2>&1; }

# Waits (at most 30 s) until <url> answers 200 with a body containing <text>.
wait_for() { # <url> <text>
  local body
  for _ in $(seq 1 60); do
    if body=$(curl -fsS --max-time 2 "$1" 2>/dev/null) && [[ $body == *"$2"* ]]; then return 0; fi
    sleep 0.5
  done
  return 1
}

log_has() { # <name> <text>
  # Not `logs | grep -q`: grep leaves at the first match, the engine then dies of SIGPIPE,
  # and pipefail turns a match into a failure.
  local text
  text=$(logs "$1")
  [[ $text == *"$2"* ]]
}

healthy() { # <name>
  if [[ $engine == podman ]]; then
    "${ENGINE[@]}" healthcheck run "$run_id-$1" >/dev/null
  else
    local s
    for _ in $(seq 1 30); do
      s=$(docker inspect --format '{{.State.Health.Status}}' "$run_id-$1")
      [[ $s == healthy ]] && return 0
      sleep 1
    done
    return 1
  fi
}

# Stops <name> with SIGTERM (the engine's stop, SIGKILL only after 10 s) and checks that
# it exited 0 within 5 s.
graceful_stop() { # <name>
  local start end status
  start=$(date +%s%N)
  "${ENGINE[@]}" stop -t 10 "$run_id-$1" >/dev/null
  end=$(date +%s%N)
  status=$("${ENGINE[@]}" inspect --format '{{.State.ExitCode}}' "$run_id-$1")
  stop_ms=$(((end - start) / 1000000))
  [[ $status == 0 && $stop_ms -lt 5000 ]]
}

cpus=$(nproc)
uid_of_pid1() { "${ENGINE[@]}" exec "$run_id-$1" grep '^Uid:' /proc/1/status | awk '{ print $2 }'; }
apps_start() {
  "${ENGINE[@]}" exec "$run_id-$1" sh -c \
    'for a in dusty-hello dusty-httpbin dusty-fetch dusty-load dusty-echo; do "$a" --help >/dev/null || { echo "$a failed"; exit 1; }; done'
}

# 1. The engine's default seccomp profile: no io_uring, so epoll.
port=$(free_port)
start default "$port" dusty:latest
check "default profile: GET /plaintext answers 'Hello, World!' on 127.0.0.1:$port" \
  wait_for "http://127.0.0.1:$port/plaintext" "Hello, World!"
check "default profile: the log says io_uring is unavailable and epoll is used" \
  log_has default "using epoll"
check "default profile: serving on $cpus shards with epoll" log_has default "($cpus shards, epoll)"
check "the server runs as uid 10001, not root" test "$(uid_of_pid1 default)" = 10001
check "GET /readyz answers ready" wait_for "http://127.0.0.1:$port/readyz" "ready"
check "GET /metrics answers Prometheus text" wait_for "http://127.0.0.1:$port/metrics" "dusty_http_requests_total"
check "HEALTHCHECK (dusty-fetch /healthz) passes" healthy default
check "every app in the image starts (dusty-hello, -httpbin, -fetch, -load, -echo --help)" apps_start default
check "SIGTERM stops it gracefully: exit status 0 within 5 s" graceful_stop default
echo "       (stopped in ${stop_ms} ms)"
check "the log says SIGTERM was received" log_has default "received Terminated"

# 2. The profile that allows io_uring.
port=$(free_port)
start uring "$port" --security-opt "seccomp=$here/seccomp-io_uring.json" dusty:latest
check "seccomp-io_uring.json: GET /plaintext answers" wait_for "http://127.0.0.1:$port/plaintext" "Hello, World!"
check "seccomp-io_uring.json: serving on $cpus shards with io_uring" log_has uring "($cpus shards, io_uring)"
check "seccomp-io_uring.json: SIGTERM stops it gracefully: exit status 0 within 5 s" graceful_stop uring
echo "       (stopped in ${stop_ms} ms)"

# 3. A CPU quota below the CPUs the container may run on.
if [[ $cpus -ge 2 ]]; then
  port=$(free_port)
  start quota "$port" --cpus 1 dusty:latest
  check "--cpus 1 on $cpus CPUs: GET /plaintext answers" wait_for "http://127.0.0.1:$port/plaintext" "Hello, World!"
  check "--cpus 1 on $cpus CPUs: one shard (the default follows the CPU quota)" log_has quota "(1 shards,"
  remove "$run_id-quota"
else
  echo "skip - --cpus 1: this machine has one CPU, so a quota cannot lower the shard count"
fi

# 4. Another app from the same image.
port=$(free_port)
start httpbin "$port" --entrypoint dusty-httpbin dusty:latest --address 0.0.0.0 --port 8080
check "dusty-httpbin: GET /get answers JSON" wait_for "http://127.0.0.1:$port/get?probe=1" '"probe"'
remove "$run_id-httpbin"

# 5. A user's service built FROM dusty-dev with find_package(dusty).
build_consumer() {
  local build=("${ENGINE[@]}" build -q "${LIMITS[@]}" -f "$here/consumer.Dockerfile" -t "$consumer_image")
  [[ $engine == podman ]] && build+=(--format docker)
  "${build[@]}" "$root/tests/package" >/dev/null
}
run_consumer() {
  containers+=("$run_id-consumer")
  [[ $("${ENGINE[@]}" run --name "$run_id-consumer" "${LIMITS[@]}" "$consumer_image" 2>/dev/null) == "answer 42" ]]
}
check "dusty-dev: tests/package builds FROM dusty-dev with find_package(dusty)" build_consumer
check "dusty-dev: the consumer runs and prints 'answer 42'" run_consumer

echo "image-test: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
