#!/usr/bin/env bash
# dusty's two front-door commands (see README.md):
#   ./dev.sh run [app flags]   build Release and start the main app
#   ./dev.sh test              build and run the whole test suite (Release and ASan+UBSan,
#                              both reactor backends); exits non-zero on any failure
#   ./dev.sh image             build the container images dusty and dusty-dev (docker/)
#   ./dev.sh image-test        build them and check them from the host (docker/image-test.sh)
set -euo pipefail
cd "$(dirname "$0")"
# The image commands build inside containers and install their own tools (docker/lib.sh).
[[ ${1:-} == image || ${1:-} == image-test ]] || ./scripts/setup.sh

jobs=$(nproc)
configure() { # <dir> <cmake args...>
  local dir=$1; shift
  # ccache keeps a second build (and CI on a machine that built before) short.
  [[ -f $dir/build.ninja ]] || cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache "$@" >/dev/null
}

cmd=${1:-}
shift || true
case "$cmd" in
  run)
    configure build/release -DCMAKE_BUILD_TYPE=Release
    cmake --build build/release -j"$jobs" --target dusty-hello
    exec build/release/apps/hello/dusty-hello "$@"
    ;;
  test)
    # Warnings are errors here (and only here: a user's newer compiler may warn anew).
    configure build/release -DCMAKE_BUILD_TYPE=Release -DCMAKE_COMPILE_WARNING_AS_ERROR=ON
    cmake --build build/release -j"$jobs"
    ctest --test-dir build/release --output-on-failure -j"$jobs" --timeout 300
    configure build/asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDUSTY_SANITIZE=ON -DDUSTY_BUILD_PERF=OFF \
      -DCMAKE_COMPILE_WARNING_AS_ERROR=ON
    cmake --build build/asan -j"$jobs"
    ctest --test-dir build/asan --output-on-failure -j"$jobs" --timeout 600
    ;;
  image)
    exec docker/image.sh "$@"
    ;;
  image-test)
    exec docker/image-test.sh "$@"
    ;;
  *)
    echo "usage: ./dev.sh run [app flags] | ./dev.sh test | ./dev.sh image | ./dev.sh image-test" >&2
    exit 2
    ;;
esac
