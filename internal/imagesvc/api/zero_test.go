package api

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"net/http"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// TestZeroByteImage uploads empty data, as Glance allows: 204, active, size
// 0 and the hashes of the empty input; downloading gives 0 bytes back.
func TestZeroByteImage(t *testing.T) {
	ctx := context.Background()
	md, sh := md5.Sum(nil), sha512.Sum512(nil)
	for _, tc := range []struct {
		name   string
		format string
		body   func() *bytes.Reader
		hdr    []string
	}{
		{"raw with Content-Length 0", "raw", func() *bytes.Reader { return bytes.NewReader(nil) }, nil},
		{"qcow2 declared 0", "qcow2", func() *bytes.Reader { return bytes.NewReader(nil) }, []string{"X-Openstack-Image-Size", "0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			id := e.mkImage(t, tokAlice, images.CreateOpts{DiskFormat: tc.format, ContainerFormat: "bare"})
			code, body, _ := e.do(t, "PUT", "/v2/images/"+id+"/file", tokAlice, "application/octet-stream", tc.body(), tc.hdr...)
			if code != http.StatusNoContent {
				t.Fatalf("upload: %d %s", code, body)
			}
			img, err := images.Get(ctx, e.client(tokAlice), id).Extract()
			if err != nil {
				t.Fatal(err)
			}
			if img.Status != images.ImageStatusActive || img.SizeBytes != 0 || img.Checksum != hex.EncodeToString(md[:]) ||
				img.Properties["os_hash_value"] != hex.EncodeToString(sh[:]) {
				t.Fatalf("after upload: %+v", img)
			}
			if _, raw, _ := e.do(t, "GET", "/v2/images/"+id, tokAlice, "", nil); !contains(raw, `"virtual_size":null`) {
				t.Fatalf("virtual_size of empty data must be null, as in Glance: %s", raw)
			}
			r, err := imagedata.Download(ctx, e.client(tokAlice), id).Extract()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got bytes.Buffer
			if _, err := got.ReadFrom(r); err != nil || got.Len() != 0 {
				t.Fatalf("download: %d bytes, %v", got.Len(), err)
			}
		})
	}
}
