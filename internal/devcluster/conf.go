package devcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// confTemplate is the smallest ceph.conf that boots one mon and one OSD on
// loopback with cephx on. The monitor address names msgr v1 explicitly:
// monmaptool treats any port but 6789 as msgr2, and with msgr2 off the OSD
// then never reaches the monitor (see CEPH-DEV-NOTES.md).
const confTemplate = `[global]
fsid = {{fsid}}
mon host = v1:127.0.0.1:{{port}}
public addr = 127.0.0.1
ms bind msgr2 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
auth allow insecure global id reclaim = false
run dir = {{dir}}/run
log file = {{dir}}/log/$name.log
keyring = {{dir}}/keyring
osd objectstore = {{store}}
memstore device bytes = {{membytes}}
bluestore block create = true
bluestore block size = {{blockbytes}}
bluestore fsck on mount = false
osd op num shards = 2
osd op num threads per shard = 2
ms bind port min = {{osdportmin}}
ms bind port max = {{osdportmax}}
# One monitor commits alone: waiting up to 1 s to batch proposals (the
# default) only makes every snapshot create or remove take a second.
paxos propose interval = 0.05
paxos min wait = 0.01

[client]
# Clients get no admin socket: many of them share one run dir and name.
admin socket =
# New RBD images get layering only. With Ceph 16's default (adding
# exclusive-lock, object-map, fast-diff, deep-flatten) a node agent making
# many disks at once crashed inside librbd (segfault in rbd_open_read_only,
# "terminate called ... std::system_error", a pthread assertion) in the
# fault suite's load test and, less often, the provisioner tests; see
# README "Known problems". cowdisk's image service and node take whatever a
# cluster sets here, as glance_store and Nova do.
rbd default features = layering

[mon.a]
mon data = {{dir}}/mon.a
admin socket = {{dir}}/run/$name.asok

[osd]
osd data = {{dir}}/osd.$id
admin socket = {{dir}}/run/$name.asok
keyring = {{dir}}/osd.$id/keyring
`

type confParams struct {
	dir, fsid, store       string
	monPort                int
	osdPortMin, osdPortMax int
	memBytes, blockBytes   uint64
}

func writeConf(path string, p confParams) error {
	r := strings.NewReplacer(
		"{{fsid}}", p.fsid,
		"{{port}}", fmt.Sprint(p.monPort),
		"{{dir}}", p.dir,
		"{{store}}", p.store,
		"{{membytes}}", fmt.Sprint(p.memBytes),
		"{{blockbytes}}", fmt.Sprint(p.blockBytes),
		"{{osdportmin}}", fmt.Sprint(p.osdPortMin),
		"{{osdportmax}}", fmt.Sprint(p.osdPortMax),
	)
	for _, d := range []string{"run", "log", "mon.a", "osd.0"} {
		if err := os.MkdirAll(filepath.Join(p.dir, d), 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(path, []byte(r.Replace(confTemplate)), 0o644)
}
