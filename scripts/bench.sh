#!/bin/sh
# make bench: boot a throwaway dev cluster, run `cowdisk bench` against it
# (image service and node agents as child processes), and always stop the
# cluster. Extra arguments go to `cowdisk bench`, e.g.
#   scripts/bench.sh --sizes 64MiB --reps 2        # quick run, ~2 minutes
#   make bench BENCH_ARGS="--sizes 64MiB --reps 2"  # the same through make
# Environment: BENCH_RESULTS (default bench-results), BENCH_WORK (scratch,
# default /tmp/cowdisk-bench; generated images are reused across runs).
set -eu
cd "$(dirname "$0")/.."
results=${BENCH_RESULTS:-bench-results}
work=${BENCH_WORK:-/tmp/cowdisk-bench}
cluster=$(mktemp -d /tmp/cowdisk-bench-cluster.XXXXXX)
cleanup() { bin/cowdisk dev cluster down --dir "$cluster/dev" || true; rm -rf "$cluster"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
bin/cowdisk dev cluster up --dir "$cluster/dev" > "$cluster/env"
. "$cluster/env"
mkdir -p "$work"
bin/cowdisk bench --bin bin/cowdisk --results "$results" --work "$work" --objectstore memstore ${BENCH_ARGS:-} "$@"
