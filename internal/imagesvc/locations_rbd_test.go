package imagesvc

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/storetest"
	"github.com/cowdisk/cowdisk/internal/rbdloc"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// call is send for tests: a failed request ends the test.
func call(t *testing.T, s *Service, method, path, token, ctype, body string) (int, string) {
	t.Helper()
	code, out, err := send(s, method, path, token, ctype, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return code, out
}

// TestLocationsRBD adds locations to queued images as Nova's direct
// snapshot does: the data is written into the store's pool as an RBD
// image named by the image id with snapshot "snap", then the location is
// added (POST, and the classic JSON patch). Foreign locations and
// non-service callers are refused and change nothing; the pool is clean at
// the end.
func TestLocationsRBD(t *testing.T) {
	ctx := context.Background()
	s, c, pool, vms := startRBD(t)
	member := client(s, "member")
	mk := func() string {
		img, err := images.Create(ctx, member, images.CreateOpts{Name: "snap", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { images.Delete(context.Background(), member, img.ID) })
		return img.ID
	}
	data := storetest.Data(6<<20+512, 5)
	write := func(p, name string, snap bool) {
		if _, err := c.Import(ctx, bytes.NewReader(data), int64(len(data)), p, name, ceph.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		if snap {
			if err := c.CreateSnapshot(ctx, p, name, "snap"); err != nil {
				t.Fatal(err)
			}
		}
	}
	id, id2 := mk(), mk()
	url := func(fsid, p, name, snap string) string {
		return rbdloc.Location{FSID: fsid, Pool: p, Image: name, Snapshot: snap}.String()
	}
	loc := func(fsid, p, name, snap string) string { return `{"url":"` + url(fsid, p, name, snap) + `"}` }
	write(pool, id, false) // no snapshot yet
	write(pool, id2, true) // another image's data
	write(vms, id, true)   // right name, wrong pool
	t.Cleanup(func() { c.Remove(context.Background(), vms, id, ceph.RemoveOptions{Retries: -1}) })
	for _, tc := range []struct {
		name, token, body string
		code              int
		msg               string
	}{
		{"member", "member", loc(c.FSID(), pool, id, "snap"), 403, "service or admin"},
		{"snapshot missing", "svc", loc(c.FSID(), pool, id, "snap"), 400, "does not exist"},
		{"foreign fsid", "svc", loc("00000000-0000-4000-8000-000000000000", pool, id, "snap"), 400, "not an image of pool"},
		{"other pool", "svc", loc(c.FSID(), vms, id, "snap"), 400, "not an image of pool"},
		{"other image", "svc", loc(c.FSID(), pool, id2, "snap"), 400, "not the image id"},
		{"other snapshot", "svc", loc(c.FSID(), pool, id, "snap2"), 400, "not an image of pool"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := call(t, s, "POST", "/v2/images/"+id+"/locations", tc.token, "application/json", tc.body)
			if code != tc.code || !strings.Contains(body, tc.msg) {
				t.Fatalf("%d %s, want %d %q", code, body, tc.code, tc.msg)
			}
		})
	}
	if img, _ := images.Get(ctx, member, id).Extract(); img.Status != images.ImageStatusQueued || img.SizeBytes != 0 {
		t.Fatalf("refused locations changed the image: %+v", img)
	}

	if err := c.CreateSnapshot(ctx, pool, id, "snap"); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	body := `{"url":"` + url(c.FSID(), pool, id, "snap") + `","validation_data":{"checksum":"` + hex.EncodeToString(sum[:]) + `"}}`
	if code, out := call(t, s, "POST", "/v2/images/"+id+"/locations", "svc", "application/json", body); code != 202 {
		t.Fatalf("POST location: %d %s", code, out)
	}
	patch := `[{"op":"add","path":"/locations/-","value":{"url":"` + url(c.FSID(), pool, id2, "snap") + `","metadata":{}}}]`
	if code, out := call(t, s, "PATCH", "/v2/images/"+id2, "svc", "application/openstack-images-v2.1-json-patch", patch); code != 200 ||
		!strings.Contains(out, `"status":"active"`) {
		t.Fatalf("patch add location: %d %s", code, out)
	}
	for _, i := range []string{id, id2} {
		img, err := images.Get(ctx, member, i).Extract()
		if err != nil || img.Status != images.ImageStatusActive || img.SizeBytes != int64(len(data)) {
			t.Fatalf("image %s after its location: %+v %v", i, img, err)
		}
	}
	// id got its checksum from validation_data, id2 (none given) gets both
	// hashes computed from the snapshot in the background.
	sha := sha512.Sum512(data)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		a, _ := images.Get(ctx, member, id).Extract()
		b, _ := images.Get(ctx, member, id2).Extract()
		if a.Checksum == hex.EncodeToString(sum[:]) && b.Checksum == a.Checksum &&
			b.Properties["os_hash_value"] == hex.EncodeToString(sha[:]) && a.Properties["os_hash_value"] == b.Properties["os_hash_value"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hashes: %q %v / %q %v", a.Checksum, a.Properties["os_hash_value"], b.Checksum, b.Properties["os_hash_value"])
		}
	}
	if code, out := call(t, s, "POST", "/v2/images/"+id+"/locations", "svc", "application/json", body); code != 409 {
		t.Fatalf("second location: %d %s", code, out)
	}
	for _, i := range []string{id, id2} {
		if err := images.Delete(ctx, member, i).ExtractErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Remove(ctx, vms, id, ceph.RemoveOptions{Retries: -1}); err != nil {
		t.Fatal(err)
	}
	testcluster.AssertPoolClean(t, c, pool)
	testcluster.AssertPoolClean(t, c, vms)
}
