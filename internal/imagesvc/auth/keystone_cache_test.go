package auth

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"
)

// TestTokenCacheBound: the cache never holds more than its size, drops
// expired entries before live ones, and never answers an expired entry.
func TestTokenCacheBound(t *testing.T) {
	now := time.Now()
	key := func(i int) [32]byte { return sha256.Sum256(fmt.Appendf(nil, "token-%d", i)) }
	c := newTokenCache(3)
	c.put(key(0), cacheEntry{until: now.Add(-time.Second)}) // already expired
	c.put(key(1), cacheEntry{until: now.Add(time.Hour)})
	c.put(key(2), cacheEntry{until: now.Add(time.Hour)})
	c.put(key(3), cacheEntry{until: now.Add(time.Hour)}) // full: the expired one goes
	if _, ok := c.get(key(0), now); ok || c.len() != 3 {
		t.Fatalf("expired entry kept or answered (len %d)", c.len())
	}
	for i := 1; i <= 3; i++ {
		if _, ok := c.get(key(i), now); !ok {
			t.Fatalf("live entry %d evicted while an expired one was there", i)
		}
	}
	for i := 4; i < 100; i++ {
		c.put(key(i), cacheEntry{until: now.Add(time.Hour)})
		if c.len() > 3 {
			t.Fatalf("cache holds %d entries, bound 3", c.len())
		}
	}
	if _, ok := c.get(key(99), now); !ok {
		t.Fatal("the newest entry is missing")
	}
	if _, ok := c.get(key(99), now.Add(2*time.Hour)); ok {
		t.Fatal("an entry past its time was answered")
	}
}
