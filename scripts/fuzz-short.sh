#!/bin/sh
# Short coverage-guided fuzz passes over every parser of hostile input. The
# seed corpora also run in plain `go test`; this explores beyond them.
set -eu
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
tags=$(scripts/ceph-build-tag)
time=${FUZZTIME:-5s}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# fuzz runs one target. Go's fuzz coordinator sometimes ends a short run with
# a bare "context deadline exceeded" when -fuzztime runs out while it is still
# gathering baseline coverage on a loaded machine; no input failed then (it
# would say "Failing input written"). Only that case is run once more, longer.
fuzz() {
  if go test -tags "$tags" -run='^$' -fuzz="^$2\$" -fuzztime="$3" "$1" >"$log" 2>&1; then
    cat "$log"; return 0
  fi
  cat "$log"
  if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
    echo "fuzz $1 $2: coordinator deadline without a failing input; running once more for 15s"
    go test -tags "$tags" -run='^$' -fuzz="^$2\$" -fuzztime=15s "$1"
    return
  fi
  return 1
}

while read -r pkg target; do
  [ -n "$pkg" ] || continue
  echo "fuzz $pkg $target ($time)"
  fuzz "$pkg" "$target" "$time"
done <<LIST
$(cat scripts/fuzz-targets.txt)
LIST
