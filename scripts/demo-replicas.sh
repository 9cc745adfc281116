#!/bin/sh
# make demo-replicas: two image service replicas on one PostgreSQL catalog
# and one RBD pool, behind one address (a tiny round-robin,
# scripts/roundrobin), as a cloud with many hypervisors runs them.
#  1. boot a throwaway Ceph and a throwaway PostgreSQL (initdb in a temp dir)
#  2. start two replicas and the round-robin in front of them
#  3. upload an image through the one address, add 40 properties to it
#     concurrently (every other request to each replica), show that none
#     is lost and that both replicas see the same record
#  4. stop replica A; the address still serves (B); delete the image
set -eu
cd "$(dirname "$0")/.."
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
[ -x "$PGBIN/initdb" ] || { echo "demo-replicas: PostgreSQL server not found in $PGBIN (scripts/install-test-deps)"; exit 1; }
work=$(mktemp -d /tmp/cowdisk-demo-replicas.XXXXXX)
pids=""
pgrun=""
if [ "$(id -u)" = 0 ]; then
  chown postgres "$work"
  pgrun="setpriv --reuid=postgres --regid=postgres --clear-groups"
fi
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  [ -f "$work/pg/postmaster.pid" ] && $pgrun "$PGBIN/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
  bin/cowdisk dev cluster down --dir "$work/cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_health() {
  i=0
  until curl -fsS "$1/healthz" >/dev/null 2>&1; do
    i=$((i+1)); [ $i -lt 600 ] || { echo "demo-replicas: $1 did not come up; log:"; cat "$2"; exit 1; }
    sleep 0.1
  done
}
json_field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p" | head -n 1; }

echo "== booting a throwaway Ceph cluster and PostgreSQL"
bin/cowdisk dev cluster up --dir "$work/cluster" > "$work/env"
. "$work/env"
pgport=$(free_port)
$pgrun "$PGBIN/initdb" -D "$work/pg" -U cowdisk --auth=trust --locale=C --encoding=UTF8 --no-sync >/dev/null
$pgrun "$PGBIN/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -o "-p $pgport -k $work -c listen_addresses=127.0.0.1" start >/dev/null
DB="postgres://cowdisk@127.0.0.1:$pgport/postgres?sslmode=disable"
echo "   catalog $(echo "$DB" | sed 's/?.*//')"

ports=""
for r in a b; do
  p=$(free_port); ports="$ports $p"
  bin/cowdisk serve images --store rbd --rbd-pool images --data-dir "$work/$r" --db "$DB" --replica "$r" \
    --listen "127.0.0.1:$p" > "$work/$r.log" 2>&1 &
  pids="$pids $!"
  eval "pid_$r=\$!"
  wait_health "http://127.0.0.1:$p" "$work/$r.log"
done
set -- $ports
A="http://127.0.0.1:$1"; B="http://127.0.0.1:$2"
lbport=$(free_port)
go build -o "$work/roundrobin" ./scripts/roundrobin
"$work/roundrobin" -listen "127.0.0.1:$lbport" "$A" "$B" > "$work/lb.log" 2>&1 &
pids="$pids $!"
IMAGES="http://127.0.0.1:$lbport"
wait_health "$IMAGES" "$work/lb.log"
echo "   replicas $A and $B behind $IMAGES"

echo "== uploading a 64 MiB image through $IMAGES"
head -c $((64 * 1024 * 1024)) /dev/urandom > "$work/demo.raw"
id=$(bin/cowdisk image create demo --endpoint "$IMAGES" --disk-format raw --file "$work/demo.raw" --progress never --json | json_field id)
echo "   image $id"

echo "== 40 concurrent property adds through $IMAGES (alternating replicas)"
i=0; cpids=""
while [ $i -lt 40 ]; do
  curl -fsS -o /dev/null -X PATCH -H 'Content-Type: application/openstack-images-v2.1-json-patch' \
    -d "[{\"op\":\"add\",\"path\":\"/demo_$i\",\"value\":\"$i\"}]" "$IMAGES/v2/images/$id" &
  cpids="$cpids $!"
  i=$((i+1))
done
for c in $cpids; do wait "$c"; done
for r in "$A" "$B"; do
  n=$(curl -fsS "$r/v2/images/$id" | tr ',' '\n' | grep -c '"demo_')
  echo "   replica $r sees $n of 40 properties"
done

echo "== stopping replica A; the address keeps serving"
kill "$pid_a"; wait "$pid_a" 2>/dev/null || true
curl -fsS "$IMAGES/v2/images/$id" | json_field status | sed 's/^/   status through the balancer: /'
curl -fsS -o /dev/null -w '   delete through the balancer: %{http_code}\n' -X DELETE "$IMAGES/v2/images/$id"
echo "== done (logs were in $work)"
