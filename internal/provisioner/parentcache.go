package provisioner

import (
	"sync"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
)

// parentFacts is what a clone needs to know about its parent snapshot. The
// snapshot of an image is immutable, so the facts hold as long as the
// snapshot does: they are cached (parentCache) to save the opens, the
// inspection reads and the stat every clone of a popular image would
// otherwise repeat.
type parentFacts struct {
	size  uint64 // the parent's virtual size
	depth int    // clone chain depth of a child (1: the parent is no clone)
}

// parentTTL bounds how long facts are reused. Correctness does not rest on
// it (a removed snapshot fails the clone, which drops the entry, and other
// image data has another key); it keeps the cache from pinning facts of
// images no longer booted.
const parentTTL = time.Minute

// parentCache caches parentFacts per snapshot and image data. Only a
// snapshot whose source passed inspection is cached, so a cached entry also
// stands for that check and for the snapshot's existence (prober). A
// snapshot removed since makes the clone fail with errs.ErrNotFound; Create
// then decides again without the cache, so the fallback applies as it
// would have without it.
type parentCache struct {
	mu  sync.Mutex
	m   map[parentKey]parentEntry
	now func() time.Time // time.Now; tests step it
}

// parentKey includes the image's checksum and hash: facts checked for some
// image data never serve other data under the same name.
type parentKey struct {
	ref            ceph.SnapRef
	id, sum, multi string
}

type parentEntry struct {
	facts parentFacts
	at    time.Time
}

func keyOf(ref ceph.SnapRef, img Image) parentKey {
	return parentKey{ref: ref, id: img.ID, sum: img.Checksum, multi: img.HashValue}
}

func (c *parentCache) get(k parentKey) (parentFacts, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || c.clock().Sub(e.at) > parentTTL {
		delete(c.m, k)
		return parentFacts{}, false
	}
	return e.facts, true
}

func (c *parentCache) put(k parentKey, f parentFacts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[parentKey]parentEntry{}
	}
	for old, e := range c.m { // expired entries go as new ones come
		if c.clock().Sub(e.at) > parentTTL {
			delete(c.m, old)
		}
	}
	c.m[k] = parentEntry{facts: f, at: c.clock()}
}

func (c *parentCache) drop(k parentKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}

func (c *parentCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// has tells whether ref has fresh facts for some image data.
func (c *parentCache) has(ref ceph.SnapRef) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if k.ref == ref && c.clock().Sub(e.at) <= parentTTL {
			return true
		}
	}
	return false
}
