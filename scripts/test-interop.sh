#!/bin/sh
# make test-interop: cowdisk driven by OpenStack's own code (the glance and
# openstack CLIs, openstacksdk, Nova, a real Glance and Keystone), every
# package under internal/interop (build tag interop). Uses the dev cluster
# named by COWDISK_TEST_CEPH_CONF (make test's) or boots one of its own.
set -eu
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
scripts/install-test-deps
[ -x bin/cowdisk ] || { echo "bin/cowdisk is missing: run make build (make test-interop does)"; exit 1; }
tags=$(scripts/ceph-build-tag)
if [ -z "${COWDISK_TEST_CEPH_CONF:-}" ]; then
  work=$(mktemp -d /tmp/cowdisk-interop.XXXXXX)
  cleanup() { bin/cowdisk dev cluster down --dir "$work/cluster" || true; rm -rf "$work"; }
  trap cleanup EXIT INT TERM
  bin/cowdisk dev cluster up --dir "$work/cluster" > "$work/env"
  . "$work/env"
fi
export COWDISK_BIN="$PWD/bin/cowdisk"
go vet -tags "$tags interop" ./internal/interop/...
# The tests mostly wait for client processes: more run at once than cores.
go test -tags "$tags interop" -count=1 -parallel 4 -timeout 20m ./internal/interop/...
