package imagesvc

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/chunklist/chunkstest"
	"github.com/cowdisk/cowdisk/internal/imageformat/imagetest"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/storetest"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// getWith sends GET path with token and extra headers; it returns the answer.
func getWith(t *testing.T, s *Service, path, token string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+s.Addr()+path, nil)
	req.Header.Set("X-Auth-Token", token)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestChunkListRBD: uploads and glance-direct imports into RBD record the
// spec's chunk list for a sparse raw image whose size is not a multiple of
// the chunk size; a chunk's Range answers 206 with exactly its bytes; a
// refused upload leaves no list and a clean pool.
func TestChunkListRBD(t *testing.T) {
	ctx := context.Background()
	s, c, pool, _ := startRBD(t, withStaging(t))
	member := client(s, "member")
	const cs = chunkstest.ChunkSize
	data := make([]byte, 5*cs+4321)
	copy(data[cs:], storetest.Data(cs, 5))        // chunk 1: data
	copy(data[3*cs+cs/2:], storetest.Data(cs, 6)) // across chunks 3 and 4
	copy(data[5*cs:], storetest.Data(4321, 7))    // the short tail
	dir := t.TempDir()
	raw, qcow := filepath.Join(dir, "d.raw"), filepath.Join(dir, "d.qcow2")
	if err := os.WriteFile(raw, data, 0o600); err != nil {
		t.Fatal(err)
	}
	imagetest.Run(t, "convert", "-f", "raw", "-O", "qcow2", raw, qcow)
	for _, method := range []string{"upload", "glance-direct", "refused"} {
		img, err := images.Create(ctx, member, images.CreateOpts{Name: method, DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		path := "/v2/images/" + img.ID
		switch method {
		case "upload":
			code, body, err := send(s, "PUT", path+"/file", "member", "application/octet-stream", mustOpen(t, raw))
			if err != nil || code != 204 {
				t.Fatalf("upload: %d %s %v", code, body, err)
			}
		case "glance-direct":
			if st, _, err := glanceDirect(ctx, s, "member", img.ID, raw); st != "active" {
				t.Fatalf("glance-direct: %s %v", st, err)
			}
		case "refused":
			if code, _, _ := send(s, "PUT", path+"/file", "member", "application/octet-stream", mustOpen(t, qcow)); code != 400 {
				t.Fatalf("qcow2 as raw: %d", code)
			}
			if resp, body := getWith(t, s, path+"/cowdisk-chunks", "member"); resp.StatusCode != 404 {
				t.Fatalf("refused upload has a list: %d %s", resp.StatusCode, body)
			}
			testcluster.AssertPoolClean(t, c, pool)
			continue
		}
		got, err := images.Get(ctx, member, img.ID).Extract()
		if err != nil {
			t.Fatal(err)
		}
		resp, body := getWith(t, s, path+"/cowdisk-chunks", "member")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: chunk list %d %s", method, resp.StatusCode, body)
		}
		chunkstest.Check(t, img.ID, data, fmt.Sprint(got.Properties["cowdisk_chunks_sha256"]), body)
		for _, r := range [][2]int{{cs, 2*cs - 1}, {3 * cs, 4*cs - 1}, {5 * cs, len(data) - 1}} {
			resp, part := getWith(t, s, path+"/file", "member", "Range", fmt.Sprintf("bytes=%d-%d", r[0], r[1]))
			if resp.StatusCode != 206 || string(part) != string(data[r[0]:r[1]+1]) {
				t.Fatalf("%s: range %v: %d, %d bytes", method, r, resp.StatusCode, len(part))
			}
		}
		if err := images.Delete(ctx, member, img.ID).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		if resp, _ := getWith(t, s, path+"/cowdisk-chunks", "member"); resp.StatusCode != 404 {
			t.Fatalf("%s: list after delete: %d", method, resp.StatusCode)
		}
	}
	testcluster.AssertPoolClean(t, c, pool)
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
