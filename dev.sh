#!/usr/bin/env bash
# dusty's two front-door commands (see README.md):
#   ./dev.sh run [app flags]   build Release and start the main app
#   ./dev.sh test              build and run the whole test suite (Release and ASan+UBSan,
#                              both reactor backends); exits non-zero on any failure
#   ./dev.sh fuzz [TARGET] [SECONDS]
#                              build the libFuzzer targets (clang, build/fuzz) and run one or
#                              all of tests/fuzz for SECONDS each (default 20) from their seed
#                              corpus; exits non-zero on a crash, naming the reproducer
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
  fuzz)
    target=${1:-all} seconds=${2:-20}
    CC=clang CXX=clang++ configure build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDUSTY_FUZZ=ON \
      -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_COMPILE_WARNING_AS_ERROR=ON
    if [[ $target == all ]]; then
      cmake --build build/fuzz -j"$jobs"
      targets=$(cd tests/fuzz && ls -d */ | tr -d / | grep -vx compat)
    else
      cmake --build build/fuzz -j"$jobs" --target "fuzz_$target"
      targets=$target
    fi
    mkdir -p build/fuzz/crashes build/fuzz/logs
    for t in $targets; do
      # libFuzzer adds what it finds to its corpus folder: a scratch copy keeps the repo clean.
      corpus=$(mktemp -d)
      cp tests/fuzz/"$t"/* "$corpus"/
      log=build/fuzz/logs/$t.log
      status=0
      build/fuzz/tests/fuzz/"fuzz_$t" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 \
        -artifact_prefix=build/fuzz/crashes/"$t"- "$corpus" >"$log" 2>&1 || status=$?
      rm -rf "$corpus"
      runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
      echo "fuzz $t: ${runs:-?} executions in ${seconds} s"
      if [[ $status -ne 0 ]]; then
        tail -n 40 "$log" >&2
        echo "fuzz $t FAILED; reproducer: $(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)" >&2
        echo "  rerun it with: build/fuzz/tests/fuzz/fuzz_$t <reproducer>" >&2
        exit 1
      fi
    done
    ;;
  image)
    exec docker/image.sh "$@"
    ;;
  image-test)
    exec docker/image-test.sh "$@"
    ;;
  *)
    echo "usage: ./dev.sh run [app flags] | ./dev.sh test | ./dev.sh fuzz [TARGET] [SECONDS] | ./dev.sh image | ./dev.sh image-test" >&2
    exit 2
    ;;
esac
