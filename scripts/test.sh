#!/bin/sh
# make test: boot a throwaway dev cluster, run every Go test against it, run
# the short fuzz passes, and always stop the cluster.
set -eu
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
tags=$(scripts/ceph-build-tag)
# Test-only packages first: go test ./... already runs a real Keystone and
# Glance (internal/ostest) and OpenStack's clients.
scripts/install-test-deps
work=$(mktemp -d /tmp/cowdisk-test.XXXXXX)
cleanup() { bin/cowdisk dev cluster down --dir "$work/cluster" || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
bin/cowdisk dev cluster up --dir "$work/cluster" > "$work/env"
. "$work/env"
go vet -tags "$tags" ./...
go test -tags "$tags" -count=1 -timeout 30m ./...
scripts/test-interop.sh
scripts/fuzz-short.sh
scripts/test-faults.sh
# The .deb under a real systemd (PID 1 of a throwaway nspawn container of
# this machine's tree), as docs/operations.md section 8 tells an operator.
make package
scripts/test-systemd.sh
