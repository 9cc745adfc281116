package imageclient

import (
	"errors"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

const goodRecord = `{"id":"11111111-1111-4111-8111-111111111111","status":"active","disk_format":"qcow2",` +
	`"size":5,"virtual_size":null,"os_hash_algo":"sha512","os_hash_value":"ab","hw_disk_bus":"virtio",` +
	`"file":"/v2/images/x/file","schema":"/v2/schemas/image","self":"/v2/images/x",` +
	`"locations":[{"url":"rbd://f/p/i/snap","metadata":{}}],"created_at":"2026-01-02T03:04:05Z"}`

func TestReadRecord(t *testing.T) {
	img, err := readRecord(strings.NewReader(goodRecord), 0, "x")
	if err != nil {
		t.Fatal(err)
	}
	if img.DiskFormat != "qcow2" || img.Size != 5 || img.OSHashAlgo != "sha512" || img.Properties["hw_disk_bus"] != "virtio" || len(img.Properties) != 1 ||
		len(img.Locations) != 1 || img.Locations[0].URL != "rbd://f/p/i/snap" || img.CreatedAt.Year() != 2026 {
		t.Fatalf("decoded %+v", img)
	}
}

// Every record a lenient decoder would resolve one way or another is
// refused as a whole; a custom property never fills a core field.
func TestReadRecordRefuses(t *testing.T) {
	big := `{"id":"a","name":"` + strings.Repeat("x", 2000) + `"}`
	for _, c := range []struct{ name, rec, want string }{
		{"duplicate", `{"id":"a","disk_format":"qcow2","disk_format":"raw"}`, `duplicate member "disk_format"`},
		{"case twin", `{"id":"a","disk_format":"qcow2","DISK_FORMAT":"raw"}`, "differ only in case"},
		{"long s twin", `{"id":"a","disk_format":"qcow2","diſk_format":"raw"}`, "differ only in case"},
		{"twin in a location", `{"id":"a","locations":[{"url":"x","URL":"y"}]}`, "differ only in case"},
		{"invalid utf-8", "{\"id\":\"a\xfe\"}", "UTF-8"},
		{"trailing", `{"id":"a"}{"id":"b"}`, "trailing"},
		{"wrong type", `{"id":"a","size":"5"}`, `member "size"`},
		{"not an object", `[]`, "record refused"},
		{"id not a UUID", `{"id":"a"}`, "not a canonical lower-case UUID"},
		{"traversal id", `{"id":"../../outside/secret"}`, "not a canonical lower-case UUID"},
		{"traversal checksum", `{"id":"11111111-1111-4111-8111-111111111111","checksum":"../../x"}`, "checksum"},
		{"negative virtual size", `{"id":"11111111-1111-4111-8111-111111111111","virtual_size":-5}`, "negative size"},
		{"too large", big, "larger than 1024 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := readRecord(strings.NewReader(c.rec), 1024, "a")
			if !errors.Is(err, errs.ErrRefused) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrRefused mentioning %q", err, c.want)
			}
		})
	}
}

// Alone, a case-folded twin of a core field is only a custom property.
func TestCaseFoldedPropertyIsNotTheCoreField(t *testing.T) {
	for _, key := range []string{"diſk_format", "DISK_FORMAT", "Disk_Format"} {
		img, err := DecodeRecord([]byte(`{"id":"a","` + key + `":"raw"}`))
		if err != nil {
			t.Fatal(err)
		}
		if img.DiskFormat != "" || img.Properties[key] != "raw" {
			t.Fatalf("%s: disk_format %q, properties %v", key, img.DiskFormat, img.Properties)
		}
	}
}
