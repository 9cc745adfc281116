package imageclient

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/strictjson"
)

// DefaultMaxRecord bounds one image record when Options leaves it zero:
// Glance's own records are a few KiB even with many properties.
const DefaultMaxRecord = 1 << 20

// recordFields are members of a record that are neither core fields read
// here nor custom properties (as gophercloud leaves them out too).
var recordFields = map[string]bool{"file": true, "schema": true, "self": true, "metadata": true,
	"openstack-image-import-methods": true, "openstack-image-store-ids": true}

// readRecord reads one image record from the service, at most max bytes,
// strictly: a duplicate member, a member differing from another only in
// case (e.g. "diſk_format" beside "disk_format"), invalid UTF-8, trailing
// data or a value no honest service sends (wellFormed) refuse the whole
// record.
// Refusals wrap errs.ErrRefused: the service's answer, not the caller's
// request, is what is wrong. what names the request ("get image X").
func readRecord(r io.Reader, max int64, what string) (Image, error) {
	data, err := readBounded(r, positive(max, DefaultMaxRecord), what, "(--max-image-record)")
	if err != nil {
		return Image{}, err
	}
	img, err := DecodeRecord(data)
	if err == nil {
		err = wellFormed(img)
	}
	if err != nil {
		return Image{}, fmt.Errorf("%s: record refused: %v: %w", what, err, errs.ErrRefused)
	}
	return img, nil
}

// readBounded reads a whole answer of at most max bytes; bound names the
// flag or limit for the refusal of a larger one.
func readBounded(r io.Reader, max int64, what, bound string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if errors.Is(err, context.Canceled) {
		return nil, fmt.Errorf("%s: reading the answer: %w", what, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading the answer: %w: %v", what, errs.ErrUnavailable, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: answer larger than %d bytes, %s: %w", what, max, bound, errs.ErrRefused)
	}
	return data, nil
}

// wellFormed refuses a record no honest service sends: an id that is not
// a canonical lower-case UUID (the form Glance and cowdisk's image service
// give ids; callers make names and URLs of them), a negative size, a hash
// that is not hex. Whether the record is about the image asked, and
// whether its hash fits its algorithm, the callers check (answered, and
// the provisioner's checkRecord).
func wellFormed(img Image) error {
	if u, err := uuid.Parse(img.ID); err != nil || u.String() != img.ID {
		return fmt.Errorf("id %s is not a canonical lower-case UUID", quote(img.ID))
	}
	if img.Size < 0 || img.VirtualSize < 0 {
		return fmt.Errorf("negative size %d or virtual_size %d", img.Size, img.VirtualSize)
	}
	for _, h := range []struct{ member, value string }{{"checksum", img.Checksum}, {"os_hash_value", img.OSHashValue}} {
		if _, err := hex.DecodeString(h.value); err != nil {
			return fmt.Errorf("%s %s is not hex", h.member, quote(h.value))
		}
	}
	return nil
}

// DecodeRecord parses one image record strictly, reading the fields by
// their exact names only. encoding/json would fill DiskFormat from
// "DISK_FORMAT" or "diſk_format" (a custom property anyone who may edit the
// image can set); here a custom property never stands in for a core field.
func DecodeRecord(data []byte) (Image, error) {
	var m map[string]json.RawMessage
	if err := strictjson.Unmarshal(data, &m, strictjson.Options{}); err != nil {
		return Image{}, err
	}
	if m == nil {
		return Image{}, fmt.Errorf("record is not a JSON object")
	}
	img := Image{Properties: map[string]string{}}
	var locs []map[string]json.RawMessage
	var created, updated string
	fields := map[string]any{
		"id": &img.ID, "name": &img.Name, "status": &img.Status, "disk_format": &img.DiskFormat,
		"container_format": &img.ContainerFormat, "size": &img.Size, "virtual_size": &img.VirtualSize,
		"checksum": &img.Checksum, "os_hash_algo": &img.OSHashAlgo, "os_hash_value": &img.OSHashValue,
		"owner": &img.Owner, "visibility": &img.Visibility, "protected": &img.Protected,
		"min_disk": &img.MinDisk, "min_ram": &img.MinRAM, "tags": &img.Tags, "direct_url": &img.DirectURL,
		"locations": &locs, "created_at": &created, "updated_at": &updated,
	}
	for k, raw := range m {
		dst, core := fields[k]
		if !core {
			var s string
			if json.Unmarshal(raw, &s) == nil && !notProperties[k] && !recordFields[k] {
				img.Properties[k] = s
			}
			continue
		}
		if string(raw) == "null" {
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return Image{}, fmt.Errorf("member %q: %v", k, err)
		}
	}
	for i, l := range locs {
		var loc Location
		if err := json.Unmarshal(l["url"], &loc.URL); err != nil {
			return Image{}, fmt.Errorf("locations[%d].url: %v", i, err)
		}
		_ = json.Unmarshal(l["metadata"], &loc.Metadata)
		img.Locations = append(img.Locations, loc)
	}
	img.CreatedAt, _ = time.Parse(time.RFC3339, created)
	img.UpdatedAt, _ = time.Parse(time.RFC3339, updated)
	return img, nil
}
