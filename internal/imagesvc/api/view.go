package api

import (
	"time"

	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// glanceTime is the timestamp format Glance writes (RFC 3339, seconds, Z).
const glanceTime = "2006-01-02T15:04:05Z"

// view renders an image as Glance does: every core field present (null when
// unset) and custom properties as top-level strings. Locations are shown
// only to callers who may see storage internals, and only when enabled.
func (s *Server) view(img catalog.Image, p auth.Principal) map[string]any {
	v := make(map[string]any, 24+len(img.Properties))
	for k, val := range img.Properties {
		v[k] = val
	}
	tags := img.Tags
	if tags == nil {
		tags = []string{}
	}
	for k, val := range map[string]any{
		"id": img.ID, "name": img.Name, "status": img.Status,
		"disk_format": img.DiskFormat, "container_format": img.ContainerFormat,
		"size": img.Size, "virtual_size": img.VirtualSize,
		"checksum": img.Checksum, "os_hash_algo": img.OSHashAlgo, "os_hash_value": img.OSHashValue,
		"owner": img.Owner, "visibility": img.Visibility, "protected": img.Protected,
		"min_disk": img.MinDisk, "min_ram": img.MinRAM, "tags": tags, "os_hidden": img.OSHidden,
		"created_at": img.CreatedAt.UTC().Format(glanceTime), "updated_at": img.UpdatedAt.UTC().Format(glanceTime),
		"self": "/v2/images/" + img.ID, "file": "/v2/images/" + img.ID + "/file", "schema": "/v2/schemas/image",
	} {
		v[k] = val
	}
	if len(img.Locations) > 0 {
		v["stores"] = s.cfg.Store.ID()
	}
	if s.seesLocations(p, img) {
		locs := make([]map[string]any, 0, len(img.Locations))
		for _, l := range img.Locations {
			md := l.Metadata
			if md == nil {
				md = map[string]string{}
			}
			locs = append(locs, map[string]any{"url": l.URL, "metadata": md})
		}
		v["locations"] = locs
		if len(img.Locations) > 0 {
			v["direct_url"] = img.Locations[0].URL
		}
	}
	return v
}

func now() time.Time { return time.Now().UTC() }
