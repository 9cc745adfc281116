//go:build faults

package faults

import (
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cowdisk/cowdisk/internal/ceph"
)

// hostileGlance serves image records with whatever locations a test puts
// there, as a real Glance with show_multiple_locations and a careless or
// malicious admin could. cowdisk's own service never lets a caller set a
// location (TestTenants), so this is how the provisioner's allow-list is
// reached end to end: real agent process, real HTTP, real cluster.
type hostileGlance struct {
	srv  *httptest.Server
	mu   sync.Mutex
	locs map[string][]string // image id -> locations
	data []byte
}

func newHostileGlance(t *testing.T, data []byte) *hostileGlance {
	g := &hostileGlance{locs: map[string][]string{}, data: data}
	md := md5.Sum(data)
	sh := sha512.Sum512(data)
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, file := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/v2/images/"), "/file")
		g.mu.Lock()
		locs, ok := g.locs[id]
		g.mu.Unlock()
		switch {
		case !ok:
			http.NotFound(w, r)
		case file:
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			_, _ = w.Write(data)
		default:
			l := []map[string]any{}
			for _, u := range locs {
				l = append(l, map[string]any{"url": u, "metadata": map[string]any{}})
			}
			rec := map[string]any{"id": id, "name": "hostile", "status": "active", "disk_format": "raw",
				"container_format": "bare", "size": len(data), "virtual_size": len(data),
				"checksum": hex.EncodeToString(md[:]), "os_hash_algo": "sha512", "os_hash_value": hex.EncodeToString(sh[:]),
				"visibility": "public", "owner": "x", "protected": false, "min_disk": 0, "min_ram": 0, "tags": []string{},
				"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "locations": l,
				"self": "/v2/images/" + id, "file": "/v2/images/" + id + "/file", "schema": "/v2/schemas/image"}
			if len(locs) > 0 {
				rec["direct_url"] = locs[0]
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(rec)
		}
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *hostileGlance) put(id string, locs ...string) {
	g.mu.Lock()
	g.locs[id] = locs
	g.mu.Unlock()
}

// The provisioner clones only locations inside its allow-list; for every
// other location it falls back to the download (and says why), so the disk
// holds the image's bytes and never another image's or another instance's.
// The pure checks are unit-tested in internal/provisioner (TestCheckLocation);
// these go through the agent process, the Glance client's parsing of
// locations and direct_url, and the real pools.
func TestAllowList(t *testing.T) {
	data := rawImage(4<<20, 9)
	g := newHostileGlance(t, data)
	f := newFixture(t, "f-allow", options{imageService: g.srv.URL})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fsid := f.c.FSID()

	// A well-formed image in the images pool (id, snapshot "snap") whose
	// bytes differ from the download, so the test can tell a clone from a
	// fallback by content.
	good := uuid.NewString()
	goodData := rawImage(4<<20, 10)
	mkImage(t, ctx, f.c, f.imagesPool, good, goodData, "snap", "snap2")
	other := uuid.NewString()
	mkImage(t, ctx, f.c, f.imagesPool, other, rawImage(4<<20, 11), "snap")
	// Another instance's disk in the vms pool: the classic OSSN-0065 target.
	victim := instanceID()
	mkImage(t, ctx, f.c, f.vmsPool, diskName(victim), rawImage(4<<20, 12), "snap")
	at := func(pool, image, snap string) string { return "rbd://" + fsid + "/" + pool + "/" + image + "/" + snap }

	for _, tc := range []struct {
		name string
		locs func(id string) []string
	}{
		{"foreign fsid", func(id string) []string {
			return []string{"rbd://" + uuid.NewString() + "/" + f.imagesPool + "/" + id + "/snap"}
		}},
		{"another instance's disk", func(string) []string { return []string{at(f.vmsPool, diskName(victim), "snap")} }},
		{"image name is not the id", func(string) []string { return []string{at(f.imagesPool, other, "snap")} }},
		{"unexpected snapshot", func(string) []string { return []string{at(f.imagesPool, good, "snap2")} }},
		{"%2F in the image", func(string) []string { return []string{at(f.imagesPool, other+"%2Fsnap", "snap")} }},
		{"%2F in the pool", func(string) []string {
			return []string{"rbd://" + fsid + "/" + f.imagesPool + "%2F" + diskName(victim) + "/x/snap"}
		}},
		{"@ in the image", func(string) []string { return []string{at(f.imagesPool, other+"@snap", "snap")} }},
		{"NUL in the image", func(id string) []string { return []string{at(f.imagesPool, id+"%00", "snap")} }},
		{"extra part", func(id string) []string { return []string{at(f.imagesPool, id, "snap") + "/extra"} }},
		{"legacy one part", func(id string) []string { return []string{"rbd://" + id} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The record's id is the good image's id, so only the
			// allow-list stands between the request and a clone of what
			// the location names. The base is made by the first case
			// and reused by the rest.
			id := good
			g.put(id, tc.locs(id)...)
			inst := instanceID()
			d := f.mustDisk(inst, id)
			if d.Method != "base-clone" || !strings.HasPrefix(d.Parent, f.vmsPool+"/"+baseName(id)+"@") {
				t.Errorf("disk made by %q from %q, want base-clone of %s", d.Method, d.Parent, baseName(id))
			}
			if len(d.Reasons) == 0 {
				t.Errorf("no reason given for refusing %v", tc.locs(id))
			}
			assertContent(t, f.c, f.vmsPool, diskName(inst), data)
			f.deleteInstance(inst)
		})
	}
	f.prune()

	t.Run("bad location first, allowed one used", func(t *testing.T) {
		g.put(good, at(f.vmsPool, diskName(victim), "snap"), at(f.imagesPool, good, "snap"))
		inst := instanceID()
		d := f.mustDisk(inst, good)
		if d.Method != "clone" || d.Parent != f.imagesPool+"/"+good+"@snap" {
			t.Errorf("disk made by %q from %q, want a clone of %s/%s@snap", d.Method, d.Parent, f.imagesPool, good)
		}
		if len(d.Reasons) != 1 {
			t.Errorf("reasons %q, want one for the refused first location", d.Reasons)
		}
		assertContent(t, f.c, f.vmsPool, diskName(inst), goodData)
		f.deleteInstance(inst)
	})
	assertPool(t, f.c, f.vmsPool, map[string][]string{diskName(victim): {"snap"}})
	assertContent(t, f.c, f.vmsPool, diskName(victim), rawImage(4<<20, 12))
}

// mkImage writes an RBD image with the given snapshots, bypassing every
// cowdisk component (the test's own fixtures).
func mkImage(t *testing.T, ctx context.Context, c *ceph.Cluster, pool, name string, data []byte, snaps ...string) {
	t.Helper()
	w, err := c.OpenWriter(ctx, pool, name, uint64(len(data)), ceph.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range snaps {
		if err := c.CreateSnapshot(ctx, pool, name, s); err != nil {
			t.Fatal(err)
		}
	}
}
