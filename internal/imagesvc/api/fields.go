package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"

	chunks "github.com/cowdisk/cowdisk/internal/chunklist"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// Accepted values. ami/ari/aki are left out on purpose: cowdisk boots whole
// disks only.
var (
	diskFormats      = []string{"raw", "qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso"}
	containerFormats = []string{"bare", "ovf", "ova", "docker", "compressed"}
	visibilities     = []string{catalog.Private, catalog.Shared, catalog.Community, catalog.Public}
)

// Fixed bounds; the quotas that an operator may change are in Limits.
const (
	maxKeyLen      = 255 // names, owners and enum values (Glance's schema)
	maxNameLen     = 255
	maxRequestJSON = 1 << 20
)

// readOnly fields are set by the service; Glance answers 403 to a client
// that tries to set them, and so do we. No caller can set a location.
// The chunk-list binding is a property only the upload sets: a node trusts
// it as far as os_hash_value, so no caller may set or drop it either.
var readOnly = []string{"status", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
	"created_at", "updated_at", "self", "file", "schema", "locations", "direct_url", "deleted",
	"deleted_at", "stores", "id", chunks.Property}

// setField applies one client-supplied field to img. It is shared by create
// and PATCH so both validate identically. raw is a JSON value.
func setField(img *catalog.Image, p auth.Principal, key string, raw json.RawMessage) error {
	var err error
	switch key {
	case "name":
		img.Name, err = decodeNullString(raw, key, maxNameLen)
	case "disk_format":
		if img.Status != catalog.StatusQueued {
			return fmt.Errorf("disk_format of a %s image cannot change: %w", img.Status, errs.ErrPermission)
		}
		img.DiskFormat, err = decodeEnum(raw, key, diskFormats)
	case "container_format":
		if img.Status != catalog.StatusQueued {
			return fmt.Errorf("container_format of a %s image cannot change: %w", img.Status, errs.ErrPermission)
		}
		img.ContainerFormat, err = decodeEnum(raw, key, containerFormats)
	case "visibility":
		var v *string
		if v, err = decodeEnum(raw, key, visibilities); err == nil {
			if v == nil {
				return fmt.Errorf("visibility cannot be null: %w", errs.ErrInvalid)
			}
			// Glance's default policy: only admins publicize images.
			if *v == catalog.Public && !p.Admin() {
				return fmt.Errorf("only admins can make an image public: %w", errs.ErrPermission)
			}
			img.Visibility = *v
		}
	case "owner":
		var v *string
		if v, err = decodeNullString(raw, key, maxKeyLen); err == nil && v != nil && *v != img.Owner {
			if !p.Admin() {
				return fmt.Errorf("only admins can set owner: %w", errs.ErrPermission)
			}
			img.Owner = *v
		}
	case "protected":
		err = strictDecode(raw, &img.Protected, key)
	case "os_hidden":
		err = strictDecode(raw, &img.OSHidden, key)
	case "min_disk", "min_ram":
		var n int
		if err = strictDecode(raw, &n, key); err == nil && n < 0 {
			err = fmt.Errorf("%s must not be negative: %w", key, errs.ErrInvalid)
		}
		if key == "min_disk" {
			img.MinDisk = n
		} else {
			img.MinRAM = n
		}
	case "tags":
		img.Tags, err = decodeTags(raw)
	default:
		if slices.Contains(readOnly, key) {
			return fmt.Errorf("attribute %q is read-only: %w", key, errs.ErrPermission)
		}
		return setProperty(img, key, raw)
	}
	return err
}

// setProperty sets a custom property; Glance stores those as strings only,
// so any other JSON type is an unknown field and refused. Its size and
// count are checked against the Limits once the whole request is applied.
func setProperty(img *catalog.Image, key string, raw json.RawMessage) error {
	if key == "" || !utf8.ValidString(key) {
		return fmt.Errorf("property name %q: 1 or more characters of UTF-8: %w", key, errs.ErrInvalid)
	}
	if err := checkPropertyKey(key); err != nil {
		return err
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("unknown field %q (custom properties must be strings): %w", key, errs.ErrInvalid)
	}
	if err := checkCustomProperty(key, v); err != nil {
		return err
	}
	if img.Properties == nil {
		img.Properties = map[string]string{}
	}
	img.Properties[key] = v
	return nil
}

func strictDecode(raw json.RawMessage, dst any, key string) error {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return fmt.Errorf("%s cannot be null: %w", key, errs.ErrInvalid)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%s: %v: %w", key, err, errs.ErrInvalid)
	}
	return nil
}

func decodeNullString(raw json.RawMessage, key string, maxLen int) (*string, error) {
	var v *string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%s must be a string: %w", key, errs.ErrInvalid)
	}
	if v != nil && (len(*v) > maxLen || !utf8.ValidString(*v)) {
		return nil, fmt.Errorf("%s: at most %d characters of UTF-8: %w", key, maxLen, errs.ErrInvalid)
	}
	return v, nil
}

func decodeEnum(raw json.RawMessage, key string, allowed []string) (*string, error) {
	v, err := decodeNullString(raw, key, maxKeyLen)
	if err != nil || v == nil {
		return v, err
	}
	if !slices.Contains(allowed, *v) {
		return nil, fmt.Errorf("%s %q (want one of %v): %w", key, *v, allowed, errs.ErrInvalid)
	}
	return v, nil
}

func decodeTags(raw json.RawMessage) ([]string, error) {
	var tags []string
	if err := strictDecode(raw, &tags, "tags"); err != nil {
		return nil, err
	}
	// Glance keeps tags a set. The count is bounded by Limits.check after
	// this; a set keeps the dedup linear for a body full of tags.
	out, seen := []string{}, map[string]bool{}
	for _, t := range tags {
		if t == "" || len(t) > maxKeyLen || !utf8.ValidString(t) {
			return nil, fmt.Errorf("tag %q: 1 to %d characters: %w", t, maxKeyLen, errs.ErrInvalid)
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}
