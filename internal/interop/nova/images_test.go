//go:build interop

package nova

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cowdisk/cowdisk/internal/imagesvc/store/storetest"
	"github.com/cowdisk/cowdisk/internal/ostest"
)

// endpoint is a JSON HTTP API: a Glance v2 endpoint (the real Glance, no
// token, every caller admin; or cowdisk's image service with a token) or
// the node agent. token, when set, gives the X-Auth-Token of each request
// (a Keystone token expires during a test, so it is asked for each time).
type endpoint struct {
	url   string
	token func(context.Context) (string, error)
	// visibility of the images upload makes ("" is the server's default).
	visibility string
}

// static is a token that never changes.
func static(tok string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return tok, nil }
}

// do sends one request and decodes a 2xx JSON answer into out (if not nil).
func (a endpoint) do(ctx context.Context, method, path, ctype string, body []byte, out any) (int, error) {
	h := http.Header{}
	if a.token != nil {
		tok, err := a.token(ctx)
		if err != nil {
			return 0, err
		}
		h.Set("X-Auth-Token", tok)
	}
	return ostest.CallJSON(ctx, h, method, a.url+path, ctype, body, out)
}

// upload creates an image, uploads data and deletes the image when the
// test ends (after the cleanups registered later, such as its disks').
func (a endpoint) upload(t *testing.T, name, diskFormat string, data []byte) string {
	t.Helper()
	var img struct{ ID string }
	fields := map[string]string{"name": name, "disk_format": diskFormat, "container_format": "bare"}
	if a.visibility != "" {
		fields["visibility"] = a.visibility
	}
	meta, _ := json.Marshal(fields)
	if _, err := a.do(t.Context(), "POST", "/v2/images", "application/json", meta, &img); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := a.do(context.Background(), "DELETE", "/v2/images/"+img.ID, "", nil, nil); err != nil {
			t.Errorf("delete image: %v", err)
		}
	})
	if _, err := a.do(t.Context(), "PUT", "/v2/images/"+img.ID+"/file", "application/octet-stream", data, nil); err != nil {
		t.Fatal(err)
	}
	return img.ID
}

// The test images: a raw disk of 24 MiB, about 40% data in runs (as real
// disks are: mostly holes), and the same disk as qcow2 made by qemu-img.
const rawSize = 24 << 20

var testImages struct {
	once       sync.Once
	raw, qcow2 []byte
	err        error
}

func images(t *testing.T) (raw, qcow2 []byte) {
	t.Helper()
	testImages.once.Do(func() {
		testImages.raw = storetest.Data(rawSize, 10)
		testImages.qcow2, testImages.err = toQCOW2(testImages.raw)
	})
	if testImages.err != nil {
		t.Fatal(testImages.err)
	}
	return testImages.raw, testImages.qcow2
}

func toQCOW2(raw []byte) ([]byte, error) {
	dir, err := os.MkdirTemp("", "cowdisk-interop-nova-img-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "disk.raw"), filepath.Join(dir, "disk.qcow2")
	if err := os.WriteFile(in, raw, 0o600); err != nil {
		return nil, err
	}
	if b, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "qcow2", in, out).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("qemu-img convert: %w: %s", err, b)
	}
	return os.ReadFile(out)
}
