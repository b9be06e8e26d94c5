#!/usr/bin/env bash
# dusty-hello against nginx, plaintext with and without pipelining (issue 3's benchmark):
# now a subset of the macro suite, perf/macro/run.sh, which takes the same options
# (--quick, --rounds N, --duration S, --min-ratio X, --build-dir DIR, --no-build, --out DIR;
# `perf/macro/run.sh --help`). Records nothing unless --record is given.
set -euo pipefail
exec "$(cd "$(dirname "$0")" && pwd)/../macro/run.sh" --only plaintext-256,pipelined-16 --servers dusty,nginx --load wrk "$@"
