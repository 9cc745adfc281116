#!/bin/sh
# Runs the walkthrough of docs/operations.md section 8 ("the .deb and
# systemd against a dev cluster") as written, under a real systemd: this
# machine's own tree booted by systemd-nspawn as a throwaway container.
#
#   make build package && sudo scripts/test-systemd.sh
#
# `make test` runs it last (scripts/test.sh); it needs root, systemd-nspawn
# (systemd-container, installed by scripts/install-test-deps) and cgroups,
# and boots a whole system. It prints the walkthrough's output,
# the units' state and their journal lines; then kills the node agent
# (systemd must restart it) and runs the guide's tear-down sentence (purge
# must keep the cowdisk user and /var/lib/cowdisk). It exits non-zero when a
# step fails or a check does not hold; about 30-60 s.
#
# Isolation, so that nothing outlives the script and no host port is used:
#  - the container's root is an overlay of / whose writable layer is a
#    tmpfs (what apt, systemctl enable and the walkthrough write vanishes);
#    systemd-nspawn's --volatile=overlay would do this, but systemd 252
#    refuses it for the host's own root directory;
#  - the mounts live in a private mount namespace of this script (and a
#    tmpfs over /run/systemd takes nspawn's runtime files);
#  - --private-network: the dev cluster and the fixed ports of the units
#    (9292, 9393) are on the container's own loopback;
#  - the host's enabled daemons (Ceph, Glance, Keystone, PostgreSQL, ...)
#    are masked in the container;
#  - no machined on this host: --register=no --keep-unit, and commands
#    enter the container with nsenter.
set -eu

if [ "${COWDISK_SYSTEMD_PRIVATE:-}" != 1 ]; then
  exec env COWDISK_SYSTEMD_PRIVATE=1 unshare --mount --propagation private "$0" "$@"
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
guide=$repo/docs/operations.md
# The checkout as the container sees it: bound at a fixed path, because
# systemd-nspawn puts a tmpfs on the container's /tmp (where CI and many
# developers keep checkouts).
src=/srv/cowdisk-src
for prog in systemd-nspawn nsenter unshare; do
  command -v "$prog" >/dev/null || { echo "$prog is missing (scripts/install-test-deps installs it)" >&2; exit 1; }
done
set -- "$repo"/bin/cowdisk_*.deb
[ $# -eq 1 ] && [ -f "$1" ] || { echo "want exactly one bin/cowdisk_*.deb (make build package), have: $*" >&2; exit 1; }
[ -x "$repo/bin/cowdisk" ] || { echo "no bin/cowdisk (make build)" >&2; exit 1; }

work=$(mktemp -d /tmp/cowdisk-systemd.XXXXXX)
mount -t tmpfs -o size=4g,mode=0700 tmpfs "$work"
mkdir "$work/upper" "$work/ovl" "$work/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/ovl" "$work/root"
mount -t tmpfs -o mode=0755 tmpfs /run/systemd
log=$work/nspawn.log

masks=""
for u in ceph.target ceph-mon.target ceph-osd.target ceph-mgr.target ceph-mds.target rbdmap.service \
  glance-api.service keystone.service postgresql.service prometheus.service smartmontools.service \
  nvmf-autoconnect.service apt-daily.timer apt-daily-upgrade.timer; do
  masks="$masks systemd.mask=$u"
done
machine_id=$(tr -d - < /proc/sys/kernel/random/uuid)
# shellcheck disable=SC2086 # one word per mask
systemd-nspawn --quiet --directory="$work/root" --machine=cowdisk-systemd --uuid="$machine_id" \
  --bind="$repo:$src" \
  --private-network --register=no --keep-unit --link-journal=no --console=passive \
  --boot -- $masks >"$log" 2>&1 &
nspawn=$!

cleanup() {
  rc=$?
  trap - EXIT INT TERM
  if kill -0 "$nspawn" 2>/dev/null; then
    [ -n "${leader:-}" ] && inside sh -c 'systemctl stop cowdisk-images cowdisk-node 2>/dev/null
      [ -d /srv/cowdisk-dev ] && cd '"$src"' && bin/cowdisk dev cluster down --dir /srv/cowdisk-dev' || true
    kill "$nspawn" # nspawn asks the container's systemd to power off
    i=0
    while kill -0 "$nspawn" 2>/dev/null && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.1; done
    kill -KILL "$nspawn" 2>/dev/null || true # past 60 s: the container dies with it
    wait "$nspawn" || true
  fi
  umount "$work/root" /run/systemd "$work" || true
  rmdir "$work" || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

inside() { nsenter --target "$leader" --all -- "$@"; }

# The container's PID 1 is nspawn's child, once it is systemd.
leader=""
i=0
while [ -z "$leader" ]; do
  i=$((i + 1))
  kill -0 "$nspawn" 2>/dev/null || { cat "$log"; echo "systemd-nspawn exited" >&2; exit 1; }
  [ $i -le 300 ] || { cat "$log"; echo "no systemd in the container after 30 s" >&2; exit 1; }
  for p in $(pgrep -P "$nspawn" || true); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && leader=$p
  done
  [ -n "$leader" ] || sleep 0.1
done
# systemctl talks to systemd on /run/systemd/private; before that socket
# exists it answers "offline" or cannot connect.
i=0
until inside test -S /run/systemd/private 2>/dev/null; do
  i=$((i + 1))
  [ $i -le 300 ] || { cat "$log"; echo "systemd in the container never started its manager" >&2; exit 1; }
  sleep 0.1
done
state=$(timeout 120 nsenter --target "$leader" --all -- systemctl is-system-running --wait || true)
echo "== systemd in the container: $state (PID 1 = host pid $leader)"
inside systemctl --failed --no-legend --no-pager
[ "$state" = running ] || { echo "the container did not boot cleanly" >&2; exit 1; }

# The walkthrough, as written, but for `make build package`: the package
# was built outside (the script's precondition), as the same user would.
awk '/^## 8\./ {s = 1; next} /^## / {s = 0} s && /^```sh$/ {b = 1; next} b && /^```$/ {exit} b' "$guide" |
  grep -v '^make build package$' > "$work/root/srv/walkthrough.sh"
[ -s "$work/root/srv/walkthrough.sh" ] || { echo "$guide: no sh block in section 8" >&2; exit 1; }
echo "== the walkthrough of docs/operations.md section 8"
fail=0
inside sh -euxc "cd '$src' && . /srv/walkthrough.sh" >"$work/walkthrough.out" 2>&1 ||
  { fail=1; echo "FAIL: the walkthrough stopped" >&2; }
cat "$work/walkthrough.out"
status=$(inside systemctl is-active cowdisk-images cowdisk-node | tr '\n' ' ')
echo "== units: $status"
inside systemctl show -p User -p ProtectSystem -p StateDirectory cowdisk-images cowdisk-node
echo "== journal"
inside journalctl -u cowdisk-images -u cowdisk-node --no-pager -n 30 -o short-iso
[ "$status" = "active active " ] || { echo "FAIL: units not both active" >&2; fail=1; }
inside journalctl -u cowdisk-node --no-pager -o cat | grep -q 'msg=request .*request_id=req-' ||
  { echo "FAIL: no request line with its id in cowdisk-node's journal" >&2; fail=1; }
echo "== systemd-analyze security"
inside systemd-analyze security --no-pager cowdisk-images cowdisk-node | tail -n 3

# Restart=on-failure is what --exit-when-replaced relies on (section 6).
echo "== cowdisk-node killed by SIGKILL"
inside systemctl kill --signal=KILL cowdisk-node
i=0
until [ "$(inside systemctl show -p NRestarts --value cowdisk-node)" -ge 1 ] &&
  inside curl -sf 127.0.0.1:9393/readyz; do
  i=$((i + 1))
  [ $i -le 60 ] || { echo "FAIL: cowdisk-node not restarted and ready 60 s after SIGKILL" >&2; fail=1; break; }
  sleep 1
done
echo

# The guide's tear-down sentence, and its promise (section 1) that purging
# the package keeps the cowdisk user and /var/lib/cowdisk.
teardown=$(awk '/^## 8\./ {s = 1} s && /^Tear down: `/ {t = 1} t {print} t && /`\.$/ {exit}' "$guide" |
  tr '\n' ' ' | sed 's/^Tear down: `//; s/`\. *$//')
echo "== tear-down: $teardown"
# apt purge asks "Do you want to continue? [Y/n]": the operator's answer.
printf 'Y\n' | inside sh -euxc "cd '$src' && $teardown" >"$work/teardown.out" 2>&1 ||
  { fail=1; echo "FAIL: the tear-down stopped" >&2; }
cat "$work/teardown.out"
inside getent passwd cowdisk >/dev/null || { echo "FAIL: purge removed the cowdisk user" >&2; fail=1; }
inside test -s /var/lib/cowdisk/imagesvc/catalog.db || { echo "FAIL: purge removed the catalog" >&2; fail=1; }
! inside test -e /etc/cowdisk || { echo "FAIL: purge left /etc/cowdisk" >&2; fail=1; }
inside systemctl cat cowdisk-node >/dev/null 2>&1 && { echo "FAIL: cowdisk-node.service still known" >&2; fail=1; }

# disk create prints a table: the METHOD column of the row under its header.
method=$(awk '$1 == "INSTANCE" { for (i = 1; i <= NF; i++) if ($i == "METHOD") col = i; next }
  col { print $col; exit }' "$work/walkthrough.out")
[ "$method" = clone ] || { echo "FAIL: the disk was made by '$method', not clone" >&2; fail=1; }
[ $fail = 0 ] && echo "PASS: the .deb's units ran under systemd, the disk was made by $method, the agent restarted after SIGKILL, purge kept the data"
exit $fail
