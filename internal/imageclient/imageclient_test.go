package imageclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/imagesvctest"
)

// serve runs cowdisk's image service in-process and returns its URL.
func serve(t *testing.T) string {
	tok, _ := auth.NewTokens([]auth.TokenEntry{
		{Token: "member", Project: "p1", Roles: []string{auth.Member}},
		{Token: "svc", Project: "svc", Roles: []string{auth.Service}},
	})
	return imagesvctest.Serve(t, tok)
}

// must keeps the happy path short; a panic fails the test with a stack.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestClient(t *testing.T) {
	ctx := context.Background()
	url := serve(t)
	c := must(New(url+"/v2/", "member", Options{UserAgent: "cowdisk-test"}))
	svc := must(New(url, "svc", Options{}))
	data := bytes.Repeat([]byte("cowdisk!"), 100000)

	img := must(c.Create(ctx, CreateOptions{Name: "a", DiskFormat: "raw", ContainerFormat: "bare",
		Tags: []string{"t"}, Properties: map[string]string{"os_distro": "debian"}}))
	if img.Status != "queued" || img.Properties["os_distro"] != "debian" {
		t.Fatalf("created %+v", img)
	}
	if _, err := c.Download(ctx, img.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("download before upload: %v", err)
	}
	if err := c.Upload(ctx, img.ID, bytes.NewReader(data), int64(len(data))+1); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("upload with a wrong size: %v", err)
	}
	// io.MultiReader hides the length: the body goes chunked.
	if err := c.Upload(ctx, img.ID, io.MultiReader(bytes.NewReader(data)), -1); err != nil {
		t.Fatal(err)
	}
	if err := c.Upload(ctx, img.ID, bytes.NewReader(data), -1); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("second upload: %v", err)
	}
	img = must(c.Get(ctx, img.ID))
	if img.Status != "active" || img.Size != int64(len(data)) || img.OSHashAlgo != "sha512" ||
		len(img.OSHashValue) != 128 || img.DirectURL != "" || img.Locations != nil {
		t.Fatalf("member's view %+v", img)
	}
	simg := must(svc.Get(ctx, img.ID))
	if !strings.HasPrefix(simg.DirectURL, "file://") || len(simg.Locations) != 1 ||
		simg.Locations[0].URL != simg.DirectURL || simg.Properties["direct_url"] != "" {
		t.Fatalf("service's view %+v", simg)
	}
	rc := must(c.Download(ctx, img.ID))
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("download: %d bytes, %v", len(got), err)
	}

	name, minDisk := "b", 3
	img = must(c.Update(ctx, img.ID, Update{Name: &name, MinDisk: &minDisk, Tags: []string{"x", "y"},
		Set: map[string]string{"hw_disk_bus": "virtio"}, Remove: []string{"os_distro"}}))
	if img.Name != "b" || img.MinDisk != 3 || len(img.Tags) != 2 || img.Properties["hw_disk_bus"] != "virtio" ||
		img.Properties["os_distro"] != "" {
		t.Fatalf("updated %+v", img)
	}

	for range 4 {
		must(c.Create(ctx, CreateOptions{Name: "more"}))
	}
	if all := must(c.List(ctx, ListOptions{PageSize: 2})); len(all) != 5 {
		t.Fatalf("listed %d images over pages of 2, want 5", len(all))
	}
	if some := must(c.List(ctx, ListOptions{PageSize: 2, Max: 3, Name: "more"})); len(some) != 3 {
		t.Fatalf("listed %d with max 3", len(some))
	}
	if err := c.Delete(ctx, img.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, img.ID); !errors.Is(err, errs.ErrNotFound) || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	url := serve(t)
	bad := must(New(url, "forged", Options{}))
	if _, err := bad.List(ctx, ListOptions{}); !errors.Is(err, errs.ErrPermission) {
		t.Fatalf("bad token: %v", err)
	}
	down := must(New("http://127.0.0.1:1", "x", Options{}))
	if _, err := down.Get(ctx, "x"); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("unreachable: %v", err)
	}
	for _, ep := range []string{"", "ftp://x", "127.0.0.1:9292"} {
		if _, err := New(ep, "t", Options{}); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("endpoint %q: %v", ep, err)
		}
	}
}
