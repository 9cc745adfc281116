package imageclient_test

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// recordClient answers Get with one decoded record; nothing else is called.
type recordClient struct {
	imageclient.Client
	img imageclient.Image
}

func (c recordClient) Get(context.Context, string) (imageclient.Image, error) { return c.img, nil }

// FuzzImageRecord feeds arbitrary image records through what the node does
// with an image service's answer: strict decoding here, the provisioner's
// adapter and its checks. Whatever passes is about the id asked, and every
// value that goes into a base's name (hashes) is hex.
func FuzzImageRecord(f *testing.F) {
	const asked = "11111111-1111-4111-8111-111111111111"
	for _, s := range []string{
		`{"id":"` + asked + `","status":"active","disk_format":"raw","size":1}`,
		`{"id":"` + asked + `","disk_format":"qcow2","os_hash_algo":"sha512","os_hash_value":"` + strings.Repeat("ab", 64) + `"}`,
		`{"id":"` + asked + `","disk_format":"raw","checksum":"../../outside/secret"}`,
		`{"id":"x.tmp-hostC-1","disk_format":"raw"}`,
		`{"id":"` + asked + `","disk_format":"qcow2","diſk_format":"raw"}`,
		`{"id":"` + asked + `","disk_format":"raw","locations":[{"url":"http://admin:s3cret@h/x","metadata":{}}]}`,
		`{"id":"` + asked + `","size":-1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := imageclient.DecodeRecord(data)
		if err != nil {
			return
		}
		img, err := provisioner.ClientSource{Client: recordClient{img: rec}}.Image(context.Background(), asked)
		if err != nil || provisioner.CheckRecord(asked, img) != nil {
			return
		}
		if img.ID != asked {
			t.Fatalf("accepted a record about %q when %s was asked", img.ID, asked)
		}
		for _, h := range []string{img.HashValue, img.Checksum} {
			if _, err := hex.DecodeString(h); err != nil {
				t.Fatalf("accepted a hash %q that is not hex", h)
			}
		}
		if img.Size < 0 || img.VirtualSize < 0 {
			t.Fatalf("negative sizes accepted: %+v", img)
		}
	})
}
