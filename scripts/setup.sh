#!/usr/bin/env bash
# Installs the Debian packages dusty needs to build, test and benchmark.
# Fast when everything is present: one dpkg-query, no network.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config ccache
  liburing-dev libboost-context-dev libmimalloc-dev libssl-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev node-llhttp nlohmann-json3-dev libnghttp2-dev
  # the fuzz build (./dev.sh fuzz): clang 14 with libFuzzer
  clang libfuzzer-14-dev
  # peers the tests and benchmarks talk to
  curl wrk nginx-light h2o nghttp2-client apache2-utils
  python3 python3-requests python3-httpbin gunicorn python3-h2
  openssl python3-cryptography python3-websockets node-ws
  chromium chromium-driver python3-selenium
  procps iproute2
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == installed ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian nginx and h2o packages start system services; the suites start their own.
$sudo systemctl disable --now nginx h2o >/dev/null 2>&1 || true
