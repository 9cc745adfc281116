#!/bin/sh
# make test-faults (and make test): the fault, load and tenant suite of
# internal/faults (issue 7). It boots its own bluestore dev cluster, because
# the tests kill and restart the OSD and a memstore OSD loses its data when
# it dies, and always stops it again. bin/cowdisk must exist (make build):
# the tests run `cowdisk serve images` and `cowdisk serve node` as child
# processes, the way an operator runs them.
set -eu
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
tags=$(scripts/ceph-build-tag)
bin=${COWDISK_FAULTS_BIN:-$PWD/bin/cowdisk}
[ -x "$bin" ] || { echo "test-faults: $bin is missing; run make build" >&2; exit 1; }
work=$(mktemp -d /tmp/cowdisk-faults.XXXXXX)
cleanup() { "$bin" dev cluster down --dir "$work/cluster" || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
"$bin" dev cluster up --dir "$work/cluster" --objectstore bluestore > "$work/env"
. "$work/env"
# The tests read the cluster (pids, fsid, keyring) from its directory.
export COWDISK_FAULTS_CLUSTER="$work/cluster"
export COWDISK_FAULTS_BIN="$bin"
go test -tags "$tags faults" -count=1 -timeout 15m ${FAULTS_TESTFLAGS:-} ./internal/faults/
