#!/bin/sh
# Short coverage-guided fuzz passes over every parser of hostile input. The
# seed corpora also run in plain `go test`; this explores beyond them.
set -eu
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
tags=$(scripts/ceph-build-tag)
time=${FUZZTIME:-5s}
# package target
while read -r pkg target; do
  [ -n "$pkg" ] || continue
  echo "fuzz $pkg $target ($time)"
  go test -tags "$tags" -run='^$' -fuzz="^${target}\$" -fuzztime="$time" "$pkg"
done <<LIST
$(cat scripts/fuzz-targets.txt)
LIST
