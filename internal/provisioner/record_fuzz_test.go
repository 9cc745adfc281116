package provisioner

import (
	"regexp"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/imageclient"
)

// FuzzImageRecord feeds arbitrary image records through what the node does
// with an image service's answer: imageclient's strict decoding, then the
// provisioner's checks. Whatever it accepts is about the id asked and yields
// base and snapshot names that stay inside the vms pool and the base
// directory.
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
	snapRE := regexp.MustCompile(`^snap(-[0-9a-f]{16})?$`)
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := imageclient.DecodeRecord(data)
		if err != nil {
			return
		}
		img := fromClient(rec)
		if checkRecord(asked, img) != nil {
			return
		}
		if img.ID != asked {
			t.Fatalf("accepted a record about %q when %s was asked", img.ID, asked)
		}
		if snap := baseSnapName(img); !snapRE.MatchString(snap) {
			t.Fatalf("base snapshot name %q from an accepted record", snap)
		}
		if img.Size < 0 || img.VirtualSize < 0 {
			t.Fatalf("negative sizes accepted: %+v", img)
		}
	})
}
