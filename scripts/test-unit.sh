#!/bin/sh
# make test-unit: the tests that need no Ceph, Glance, Keystone or
# PostgreSQL, in under a minute. -short is the switch (internal/testmode):
# the helpers that would start or reach those skip the test and record
# what it needed; this script then says what it left out. `make test`
# never passes -short, so there the same tests run or fail loudly.
set -eu
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
tags=$(scripts/ceph-build-tag)
work=$(mktemp -d /tmp/cowdisk-test-unit.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
export COWDISK_UNIT_SKIPS="$work/skips"
: > "$COWDISK_UNIT_SKIPS"
rc=0
go test -tags "$tags" -short -count=1 -timeout 5m "$@" ./... || rc=$?
root=$(pwd)
echo
echo "test-unit left out (make test runs them):"
# Packages whose tests are behind a build tag of their own.
go list -tags "$tags" -f '{{.ImportPath}}{{range .IgnoredGoFiles}} {{.}}{{end}}' ./... |
	awk '{n=0; for (i=2; i<=NF; i++) if ($i ~ /_test\.go$/) n++; if (n) printf "  %s: %d test files behind a build tag\n", $1, n}'
# Tests skipped for what they need, per package.
sed "s|^$root/||" "$COWDISK_UNIT_SKIPS" | sort | awk -F '\t' '
	{ k = $1 FS $3; n[k]++ }
	END { for (k in n) { split(k, a, FS); printf "  %s: %d tests need %s\n", a[1], n[k], a[2] } }' | sort
exit $rc
