package api

import (
	"fmt"
	"net/http"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// Limits are the image service's bounds, after Glance's quotas and
// options of the same meaning. A zero field takes its default.
type Limits struct {
	MaxProperties int // custom properties per image (image_property_quota: 128)
	MaxTags       int // tags per image (image_tag_quota: 128)
	MaxKeyLen     int // bytes of a property name (Glance's schema: 255)
	// MaxValueLen is the bytes of a property value. Glance keeps values in
	// a TEXT column (64 KiB in MySQL); 65535 keeps every value Glance can
	// hold, and with the page byte budget it bounds what a list costs.
	MaxValueLen     int
	DefaultPageSize int // images per list page when the client names none (limit_param_default: 25)
	MaxPageSize     int // images per list page at most (api_limit_max: 1000)
	// MaxPageBytes ends a list page early once its records hold this many
	// bytes (catalog.Image.Footprint), whatever the limit: 1000 images of
	// 128 x 64 KiB properties would otherwise be 8 GiB in one answer.
	MaxPageBytes int64
	// UserStorageQuota is the bytes of image data one project may store
	// (user_storage_quota); 0 is no quota. Uploads in progress count.
	UserStorageQuota int64
}

// DefaultLimits are Glance's defaults, plus the page byte budget.
var DefaultLimits = Limits{MaxProperties: 128, MaxTags: 128, MaxKeyLen: 255, MaxValueLen: 65535,
	DefaultPageSize: 25, MaxPageSize: 1000, MaxPageBytes: 8 << 20}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	pick := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&l.MaxProperties, d.MaxProperties)
	pick(&l.MaxTags, d.MaxTags)
	pick(&l.MaxKeyLen, d.MaxKeyLen)
	pick(&l.MaxValueLen, d.MaxValueLen)
	pick(&l.DefaultPageSize, d.DefaultPageSize)
	pick(&l.MaxPageSize, d.MaxPageSize)
	l.DefaultPageSize = min(l.DefaultPageSize, l.MaxPageSize)
	if l.MaxPageBytes <= 0 {
		l.MaxPageBytes = d.MaxPageBytes
	}
	return l
}

// check bounds an image about to be stored (created or changed). before
// is the stored record, nil on create: a count over a quota lowered since
// is refused only when the request makes it larger, so such an image can
// still be trimmed, and only new or changed properties are measured.
func (l Limits) check(img, before *catalog.Image) error {
	var oldProps map[string]string
	oldTags := 0
	if before != nil {
		oldProps, oldTags = before.Properties, len(before.Tags)
	}
	if n := len(img.Properties); n > l.MaxProperties && n > len(oldProps) {
		return statusErr(http.StatusRequestEntityTooLarge,
			"image %s: %d custom properties; the limit (image_property_quota) is %d", img.ID, n, l.MaxProperties)
	}
	if n := len(img.Tags); n > l.MaxTags && n > oldTags {
		return statusErr(http.StatusRequestEntityTooLarge,
			"image %s: %d tags; the limit (image_tag_quota) is %d", img.ID, n, l.MaxTags)
	}
	for k, v := range img.Properties {
		if old, ok := oldProps[k]; ok && old == v {
			continue
		}
		if len(k) > l.MaxKeyLen {
			return fmt.Errorf("image %s: property name %.40q... is %d bytes; the limit is %d: %w",
				img.ID, k, len(k), l.MaxKeyLen, errs.ErrInvalid)
		}
		if len(v) > l.MaxValueLen {
			return fmt.Errorf("image %s: property %q is %d bytes; the limit is %d: %w",
				img.ID, k, len(v), l.MaxValueLen, errs.ErrInvalid)
		}
	}
	return nil
}
