package api

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"net/http"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/cowdisk/cowdisk/internal/imagesvc/store/storetest"
)

// TestGophercloudLifecycle drives the whole image life with the gophercloud
// v2 client, a client this project did not write.
func TestGophercloudLifecycle(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	c := e.client(tokAlice)
	data := storetest.Data(3<<20+17, 7)

	img, err := images.Create(ctx, c, images.CreateOpts{Name: "debian", DiskFormat: "raw",
		ContainerFormat: "bare", Tags: []string{"base"}, MinDisk: 2,
		Properties: map[string]string{"os_distro": "debian"}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if img.Status != images.ImageStatusQueued || img.Owner != "p1" || img.Properties["os_distro"] != "debian" ||
		img.Visibility != images.ImageVisibilityShared || img.MinDiskGigabytes != 2 {
		t.Fatalf("created: %+v", img)
	}

	// Upload a stream of unknown length: gophercloud sends it chunked.
	if err := imagedata.Upload(ctx, c, img.ID, stream(data)).ExtractErr(); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if e.chunkedPuts.Load() != 1 {
		t.Fatal("the upload was not chunked; the unknown-length path went untested")
	}
	img, err = images.Get(ctx, c, img.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	md, sh := md5.Sum(data), sha512.Sum512(data)
	if img.Status != images.ImageStatusActive || img.SizeBytes != int64(len(data)) ||
		img.VirtualSize != int64(len(data)) || img.Checksum != hex.EncodeToString(md[:]) ||
		img.Properties["os_hash_algo"] != "sha512" || img.Properties["os_hash_value"] != hex.EncodeToString(sh[:]) {
		t.Fatalf("after upload: %+v", img)
	}
	if _, ok := img.Properties["locations"]; ok {
		t.Fatal("a member sees locations")
	}
	// The service role sees where the data is (the provisioner needs it).
	svcImg, err := images.Get(ctx, e.client(tokSvc), img.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := svcImg.Properties["direct_url"].(string); !contains(u, "file://") {
		t.Fatalf("service caller: direct_url %v", svcImg.Properties["direct_url"])
	}

	// A second upload to an active image is a conflict.
	err = imagedata.Upload(ctx, c, img.ID, bytes.NewReader(data)).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("second upload: %v", err)
	}

	// Download: whole body, Content-MD5.
	dl := imagedata.Download(ctx, c, img.ID)
	body, err := dl.Extract()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(body)
	body.Close()
	if !bytes.Equal(got, data) || dl.Header.Get("Content-MD5") != img.Checksum {
		t.Fatalf("download: %d bytes, Content-MD5 %q", len(got), dl.Header.Get("Content-MD5"))
	}

	// Update with JSON patch.
	img, err = images.Update(ctx, c, img.ID, images.UpdateOpts{
		images.ReplaceImageName{NewName: "debian-13"},
		images.ReplaceImageTags{NewTags: []string{"base", "trixie"}},
		images.ReplaceImageMinDisk{NewMinDisk: 4},
		images.UpdateImageProperty{Op: images.AddOp, Name: "hw_disk_bus", Value: "virtio"},
		images.UpdateImageProperty{Op: images.ReplaceOp, Name: "os_distro", Value: "Debian"},
		images.UpdateImageProperty{Op: images.RemoveOp, Name: "hw_disk_bus"},
	}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if img.Name != "debian-13" || len(img.Tags) != 2 || img.MinDiskGigabytes != 4 ||
		img.Properties["os_distro"] != "Debian" || img.Properties["hw_disk_bus"] != nil {
		t.Fatalf("after update: %+v", img)
	}
	// Nobody can set a location.
	_, err = images.Update(ctx, e.client(tokAdmin), img.ID, images.UpdateOpts{
		images.UpdateImageProperty{Op: images.AddOp, Name: "direct_url", Value: "rbd://x/y/z/snap"},
	}).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Fatalf("setting direct_url: %v", err)
	}

	if err := images.Delete(ctx, c, img.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := images.Get(ctx, c, img.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if f := e.storedFiles(t); len(f) != 0 {
		t.Fatalf("files after delete: %v", f)
	}
}

func TestGophercloudListPages(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	want := map[string]bool{}
	for range 8 {
		want[e.mkImage(t, tokAlice, images.CreateOpts{Tags: []string{"mine"}})] = true
	}
	e.mkImage(t, tokBob, images.CreateOpts{}) // p2's shared image: not listed for alice
	for _, opts := range []images.ListOpts{
		{Limit: 3},
		{Limit: 3, SortKey: "name", SortDir: "asc"},
		{Limit: 2, Tags: []string{"mine"}, Sort: "created_at:asc"},
	} {
		seen := map[string]bool{}
		pages := 0
		err := images.List(e.client(tokAlice), opts).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
			imgs, err := images.ExtractImages(p)
			pages++
			for _, img := range imgs {
				if seen[img.ID] || !want[img.ID] {
					t.Fatalf("%+v: unexpected or repeated image %s", opts, img.ID)
				}
				seen[img.ID] = true
			}
			return true, err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != len(want) || pages < len(want)/opts.Limit {
			t.Fatalf("%+v: %d images in %d pages, want %d", opts, len(seen), pages, len(want))
		}
	}
}

func TestDownloadRanges(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	id := e.mkImage(t, tokAlice, images.CreateOpts{})
	data := storetest.Data(1<<20, 3)
	if err := imagedata.Upload(ctx, e.client(tokAlice), id, bytes.NewReader(data)).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	path := "/v2/images/" + id + "/file"
	for _, tc := range []struct {
		rng  string
		code int
		body []byte
	}{
		{"bytes=0-9", http.StatusPartialContent, data[:10]},
		{"bytes=1048570-", http.StatusPartialContent, data[1048570:]},
		{"bytes=-5", http.StatusPartialContent, data[len(data)-5:]},
		{"bytes=2000000-", http.StatusRequestedRangeNotSatisfiable, nil},
	} {
		code, body, hdr := e.do(t, "GET", path, tokAlice, "", nil, "Range", tc.rng)
		if code != tc.code || (tc.body != nil && body != string(tc.body)) {
			t.Errorf("Range %s: %d, %d bytes", tc.rng, code, len(body))
		}
		if hdr.Get("Content-MD5") != "" {
			t.Errorf("Range %s: Content-MD5 on a partial body", tc.rng)
		}
	}
	// A queued image has no data: 204 as Glance.
	q := e.mkImage(t, tokAlice, images.CreateOpts{})
	if code, _, _ := e.do(t, "GET", "/v2/images/"+q+"/file", tokAlice, "", nil); code != http.StatusNoContent {
		t.Errorf("download of queued image: %d", code)
	}
}
