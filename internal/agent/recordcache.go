package agent

import (
	"sync"
	"time"

	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// recordCache keeps the image records read with the service credentials
// (the only ones showing locations) so that a create reads the image once,
// as the caller, in the common case. An entry is served only when the
// caller's fresh read has the same stamp: any change of an image (status,
// data, locations, properties) moves its updated_at, so a deactivated,
// deleted or relocated image is never answered from the cache.
type recordCache struct {
	mu  sync.Mutex
	m   map[string]cachedRecord
	now func() time.Time // time.Now; tests step it
}

type cachedRecord struct {
	img provisioner.Image
	at  time.Time
}

const (
	// recordTTL bounds how long a record is reused without a service read,
	// for what the stamp may not show (see racyWindow).
	recordTTL = 30 * time.Second
	// maxRecords bounds the cache; a full cache drops its oldest entry.
	maxRecords = 1024
)

// racyWindow: Glance gives updated_at in whole seconds, so two changes
// within one second can leave the same stamp. A record changed less than
// this long before it was read is not cached (git's "racily clean" rule);
// the margin also covers that much clock skew between the node and the
// image service. A variable so that a test can show what the stamp alone
// catches.
var racyWindow = 2 * time.Second

// stamp is what must match between the caller's fresh read and a cached
// record. updated_at alone would do against an honest service with a fine
// clock; the rest catches the same-second changes that matter most.
type stamp struct {
	updated                time.Time
	status, format         string
	size, vsize            int64
	checksum, algo, digest string
}

func stampOf(img provisioner.Image) stamp {
	return stamp{updated: img.UpdatedAt, status: img.Status, format: img.DiskFormat, size: img.Size, vsize: img.VirtualSize,
		checksum: img.Checksum, algo: img.HashAlgo, digest: img.HashValue}
}

// has tells whether some record of id is cached (the service read is then
// not started alongside the caller's).
func (c *recordCache) has(id string) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	return ok && c.clock().Sub(e.at) <= recordTTL
}

// get returns the cached record of fresh's image if it has fresh's stamp.
func (c *recordCache) get(fresh provisioner.Image) (provisioner.Image, bool) {
	if c == nil || fresh.UpdatedAt.IsZero() {
		return provisioner.Image{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[fresh.ID]
	if !ok || c.clock().Sub(e.at) > recordTTL || stampOf(e.img) != stampOf(fresh) {
		return provisioner.Image{}, false
	}
	return e.img, true
}

// put caches img, read with the service credentials, if the caller's read
// (caller) saw the same image state and that state is not racy.
func (c *recordCache) put(img, caller provisioner.Image) {
	if c == nil || img.UpdatedAt.IsZero() || stampOf(img) != stampOf(caller) {
		c.drop(img.ID)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock()
	if now.Sub(img.UpdatedAt) < racyWindow {
		delete(c.m, img.ID)
		return
	}
	if c.m == nil {
		c.m = map[string]cachedRecord{}
	}
	if _, ok := c.m[img.ID]; !ok && len(c.m) >= maxRecords {
		c.evictOldest()
	}
	c.m[img.ID] = cachedRecord{img: img, at: now}
}

func (c *recordCache) drop(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// evictOldest makes room; the caller holds mu. A linear scan: the cache is
// small and filling it is rare.
func (c *recordCache) evictOldest() {
	var oldest string
	for id, e := range c.m {
		if oldest == "" || e.at.Before(c.m[oldest].at) {
			oldest = id
		}
	}
	delete(c.m, oldest)
}

func (c *recordCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}
