#!/bin/sh
# make demo: the main job end to end, as an operator would run it.
#  1. boot a throwaway Ceph (1 mon + 1 OSD on loopback)
#  2. start the image service (RBD store) and the node agent
#  3. upload a raw and a qcow2 image through the Glance v2 API
#  4. create 20 disks from each and print the method and time of every disk
set -eu
cd "$(dirname "$0")/.."
N=${DEMO_DISKS:-20}
SIZE_MIB=${DEMO_SIZE_MIB:-512}
work=$(mktemp -d /tmp/cowdisk-demo.XXXXXX)
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  bin/cowdisk dev cluster down --dir "$work/cluster" || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || shuf -i 20000-60000 -n 1; }
wait_health() {
  i=0
  until curl -fsS "$1/healthz" >/dev/null 2>&1; do
    i=$((i+1)); [ $i -lt 600 ] || { echo "demo: $1 did not come up; log:"; cat "$2"; exit 1; }
    sleep 0.1
  done
}
json_field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p" | head -n 1; }

echo "== booting a throwaway Ceph cluster"
bin/cowdisk dev cluster up --dir "$work/cluster" > "$work/env"
. "$work/env"

ip=$(free_port); np=$(free_port)
export COWDISK_AGENT="http://127.0.0.1:$np"
IMAGES="http://127.0.0.1:$ip"
bin/cowdisk serve images --store rbd --rbd-pool images --data-dir "$work/imagesvc" \
  --listen "127.0.0.1:$ip" > "$work/images.log" 2>&1 &
pids="$pids $!"
bin/cowdisk serve node --image-service "$IMAGES" --images-pool images --vms-pool vms \
  --listen "127.0.0.1:$np" --local-dir "$work/node" > "$work/node.log" 2>&1 &
pids="$pids $!"
wait_health "$IMAGES" "$work/images.log"
wait_health "$COWDISK_AGENT" "$work/node.log"
echo "   image service $IMAGES, node agent $COWDISK_AGENT"

echo "== making a ${SIZE_MIB} MiB image (about 40% data in runs, the rest zeros) and its qcow2"
truncate -s "${SIZE_MIB}M" "$work/demo.raw"
off=0
while [ $off -lt "$SIZE_MIB" ]; do
  head -c $((8 * 1024 * 1024)) /dev/urandom | dd of="$work/demo.raw" bs=1M seek=$off conv=notrunc status=none
  off=$((off + 20))
done
qemu-img convert -f raw -O qcow2 "$work/demo.raw" "$work/demo.qcow2"

start=$(date +%s%N)
raw_id=$(bin/cowdisk image create demo-raw --endpoint "$IMAGES" --disk-format raw --file "$work/demo.raw" --progress never --json | json_field id)
raw_ms=$(( ($(date +%s%N) - start) / 1000000 ))
start=$(date +%s%N)
qcow_id=$(bin/cowdisk image create demo-qcow2 --endpoint "$IMAGES" --disk-format qcow2 --file "$work/demo.qcow2" --progress never --json | json_field id)
qcow_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "   uploaded raw   $raw_id in ${raw_ms} ms (into RBD, snapshot 'snap')"
echo "   uploaded qcow2 $qcow_id in ${qcow_ms} ms (file kept as qcow2: not cloneable)"

echo "== creating $N disks from each image"
printf '%-6s %3s  %-36s  %-10s %8s\n' IMAGE "#" INSTANCE METHOD MS > "$work/table"
for img in raw qcow2; do
  id=$raw_id; [ $img = raw ] || id=$qcow_id
  i=1
  while [ $i -le "$N" ]; do
    inst=$(cat /proc/sys/kernel/random/uuid)
    out=$(bin/cowdisk disk create --instance "$inst" --image "$id" --json)
    printf '%-6s %3d  %-36s  %-10s %8s\n' $img $i "$inst" \
      "$(echo "$out" | json_field method)" "$(echo "$out" | json_field elapsed_ms)" >> "$work/table"
    i=$((i + 1))
  done
done
cat "$work/table"
echo
echo "== image -> base -> disks"
bin/cowdisk disk tree
echo
echo "== libvirt XML of the last disk"
bin/cowdisk disk xml "$inst" disk
