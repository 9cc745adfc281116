//go:build faults

package faults

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// An image service killed in the middle of an upload: after restart the
// image is not active, and the store holds no data for it (no image, no
// temporary, nothing in the trash).
func TestImageServiceKilledMidUpload(t *testing.T) {
	f := newFixture(t, "f-svc", options{})
	id := f.createImage("", map[string]any{"name": "cut", "disk_format": "raw", "container_format": "bare"})
	data := rawImage(64<<20, 7)

	pr, pw := io.Pipe()
	go func() { _, _ = tryCall("PUT", f.images.url()+"/v2/images/"+id+"/file", "", pr) }()
	go func() { _, _ = pw.Write(data[:16<<20]) }() // then the client stalls
	// Wait until the store's temporary image exists and holds data.
	waitFor(t, "the upload to reach the store", time.Minute, func() bool {
		for _, n := range imageNames(t, f) {
			if strings.HasPrefix(n, id) {
				return true
			}
		}
		return false
	})
	time.Sleep(500 * time.Millisecond)
	t.Logf("killing the image service with %v in the pool", imageNames(t, f))
	f.images.kill(t)
	pw.CloseWithError(fmt.Errorf("client gone"))

	f.images.start(t)
	code, img := f.imageRecord("", id)
	t.Logf("after restart: GET %d, status %v", code, img["status"])
	if code != http.StatusOK || img["status"] == "active" {
		t.Errorf("after restart the image is %d %v, want it present and not active", code, img["status"])
	}
	f.assertImagesPool()
	// The image can be uploaded again (queued) or is marked killed; an
	// image stuck in "saving" can never get data.
	if img["status"] == "saving" {
		t.Errorf("image stays saving after the restart: no upload can ever complete it")
	}
}

func imageNames(t *testing.T, f *fixture) []string {
	t.Helper()
	st, _ := poolState(t, f.c, f.imagesPool)
	var out []string
	for n := range st {
		out = append(out, n)
	}
	return out
}
