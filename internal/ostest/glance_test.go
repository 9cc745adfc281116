package ostest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/rbdloc"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// glanceCall sends one request with the given identity headers and decodes
// a 2xx JSON answer into out (when not nil); it returns the status.
func glanceCall(t *testing.T, g *Glance, h http.Header, method, path, ctype string, body []byte, out any) int {
	t.Helper()
	st, err := CallJSON(t.Context(), h, method, g.URL+path, ctype, body, out)
	if st == 0 || (st < 300 && err != nil) {
		t.Fatal(err)
	}
	return st
}

// TestGlanceHeadersRBD: a real Glance on the dev cluster takes callers from
// identity headers, keeps projects apart, and stores an upload as
// glance_store does: <pool>/<id>@snap with the cluster's default features,
// location rbd://<fsid>/<pool>/<id>/snap. Delete leaves the pool clean and
// Stop ends the process.
func TestGlanceHeadersRBD(t *testing.T) {
	c := testcluster.Connect(t)
	pool, _ := testcluster.Pools(t, "ostest")
	g := StartGlance(t, GlanceOptions{CephConf: c.Config().ConfPath, Pool: pool, Auth: GlanceHeaders})
	p1, p2 := g.Headers("p1", "member"), g.Headers("p2", "member")
	var img struct {
		ID, Status, Owner string
		DirectURL         string `json:"direct_url"`
	}
	create := []byte(`{"name":"ostest","disk_format":"raw","container_format":"bare"}`)
	if st := glanceCall(t, g, p1, "POST", "/v2/images", "application/json", create, &img); st != 201 {
		t.Fatalf("create: %d (%s)", st, g.LogTail())
	}
	data := bytes.Repeat([]byte("glance"), 3<<20/6)
	if st := glanceCall(t, g, p1, "PUT", "/v2/images/"+img.ID+"/file", "application/octet-stream", data, nil); st != 204 {
		t.Fatalf("upload: %d (%s)", st, g.LogTail())
	}
	if st := glanceCall(t, g, p2, "GET", "/v2/images/"+img.ID, "", nil, nil); st != 404 {
		t.Fatalf("another project's private image: %d, want 404", st)
	}
	if st := glanceCall(t, g, g.Headers("p1", "admin"), "GET", "/v2/images/"+img.ID, "", nil, &img); st != 200 {
		t.Fatalf("get as admin: %d", st)
	}
	want := rbdloc.Location{FSID: c.FSID(), Pool: pool, Image: img.ID, Snapshot: "snap"}.String()
	if img.Status != "active" || img.Owner != "p1" || img.DirectURL != want {
		t.Fatalf("image %+v; want active, owner p1, direct_url %s", img, want)
	}
	checkGlanceImage(t, c, pool, img.ID, len(data))
	if st := glanceCall(t, g, p1, "DELETE", "/v2/images/"+img.ID, "", nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	testcluster.AssertPoolClean(t, c, pool)
	pid := g.PID()
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("glance-api pid %d still running after Stop", pid)
	}
}

// checkGlanceImage asserts the RBD layout glance_store is known for.
func checkGlanceImage(t *testing.T, c *ceph.Cluster, pool, id string, size int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	info, err := c.Stat(ctx, pool, id)
	if err != nil {
		t.Fatal(err)
	}
	def, err := c.DefaultFeatures()
	if err != nil {
		t.Fatal(err)
	}
	snaps, err := c.ListSnapshots(ctx, pool, id)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("size %d, objects %d, features %s, snaps %v",
		info.Size, info.ObjectSize, ceph.FeatureString(info.Features), snaps)
	if info.Size != uint64(size) || info.ObjectSize != 8<<20 || info.Features != def || !slices.Equal(snaps, []string{"snap"}) {
		t.Fatalf("%s/%s: %s; want size %d, 8 MiB objects, features %s, snaps [snap]",
			pool, id, got, size, ceph.FeatureString(def))
	}
}
