package auth

import (
	"sync"
	"time"
)

// cacheEntry is a validation result (a Principal, or the error to answer
// again) and until when it holds.
type cacheEntry struct {
	principal Principal
	err       error
	until     time.Time
}

// tokenCache maps sha256(token) to results, so no token is kept in memory
// and a lookup compares no secret byte by byte. It holds at most size
// entries: when full, expired ones go first, then arbitrary ones (Go's map
// order), which is enough for a cache that only saves Keystone calls.
type tokenCache struct {
	mu   sync.Mutex
	size int
	m    map[[32]byte]cacheEntry
}

func newTokenCache(size int) *tokenCache {
	return &tokenCache{size: size, m: make(map[[32]byte]cacheEntry)}
}

func (c *tokenCache) get(key [32]byte, now time.Time) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return e, false
	}
	if !now.Before(e.until) {
		delete(c.m, key)
		return e, false
	}
	return e, true
}

func (c *tokenCache) put(key [32]byte, e cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok && len(c.m) >= c.size {
		c.evict(time.Now())
	}
	c.m[key] = e
}

// evict frees at least one place: every expired entry, else one entry.
func (c *tokenCache) evict(now time.Time) {
	for k, e := range c.m {
		if !now.Before(e.until) {
			delete(c.m, k)
		}
	}
	if len(c.m) < c.size {
		return
	}
	for k := range c.m {
		delete(c.m, k)
		return
	}
}

// len is the number of entries (for tests).
func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
