package rbdstore

import (
	"sync"
	"time"
)

// Open snapshots are shared between requests: opening one costs ~5 ms of
// round trips to the cluster, more than reading a 4 MiB chunk, and a node's
// sparse transfer reads an image as many Range requests, a few at a time.
// A snapshot never changes, so one open handle serves every reader.
const (
	// readerIdle is how long an unused handle stays open. Short: an open
	// handle makes the image busy for a delete from another replica,
	// which retries for longer than this.
	readerIdle = time.Second
	// maxReaders bounds the handles kept open; past it, opens are not shared.
	maxReaders = 64
)

// readers is the set of shared open snapshots, by location.
type readers struct {
	mu     sync.Mutex
	open   map[string]*shared
	closed bool
}

// shared is one open snapshot and how many Open results use it.
type shared struct {
	key   string // its entry in readers.open while not gone
	src   source
	refs  int
	gone  bool // out of the set: the last release closes it
	timer *time.Timer
}

// handle is one Open's use of a shared snapshot; Close releases it once.
type handle struct {
	source
	rs   *readers
	sh   *shared
	once sync.Once
}

func (h *handle) Close() error {
	h.once.Do(func() { h.rs.release(h.sh) })
	return nil
}

// get returns a handle on the snapshot at key, opening it with open if no
// handle is shared yet. Opening runs outside the lock; of two racing opens
// the second is closed again.
func (rs *readers) get(key string, open func() (source, error)) (source, error) {
	if h := rs.share(key, nil); h != nil {
		return h, nil
	}
	src, err := open()
	if err != nil {
		return nil, err
	}
	if h := rs.share(key, src); h != nil {
		return h, nil
	}
	return src, nil // not shared: the set is full or closed
}

// share takes a reference on the entry for key; given src, it adds src as
// that entry (closing src if another open won). nil means: open it yourself
// (src nil and no entry), or use src unshared.
func (rs *readers) share(key string, src source) *handle {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	sh := rs.open[key]
	switch {
	case sh != nil && src != nil:
		src.Close() // a racing open won
	case sh == nil && (src == nil || rs.closed || len(rs.open) >= maxReaders):
		return nil
	case sh == nil:
		if rs.open == nil {
			rs.open = map[string]*shared{}
		}
		sh = &shared{key: key, src: src}
		rs.open[key] = sh
	}
	if sh.timer != nil {
		sh.timer.Stop()
		sh.timer = nil
	}
	sh.refs++
	return &handle{source: sh.src, rs: rs, sh: sh}
}

func (rs *readers) release(sh *shared) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if sh.refs--; sh.refs > 0 {
		return
	}
	if sh.gone {
		sh.src.Close()
		return
	}
	sh.timer = time.AfterFunc(readerIdle, func() { rs.expire(sh) })
}

// expire closes sh if it is still unused.
func (rs *readers) expire(sh *shared) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if sh.refs > 0 || sh.gone {
		return
	}
	delete(rs.open, sh.key) // not gone: still its entry
	sh.gone = true
	sh.src.Close()
}

// evict takes key out of the set (before its image is removed); the
// handle closes now if unused, else when its last reader lets go.
func (rs *readers) evict(key string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.drop(key)
}

func (rs *readers) drop(key string) {
	sh := rs.open[key]
	if sh == nil {
		return
	}
	delete(rs.open, key)
	sh.gone = true
	if sh.refs == 0 {
		if sh.timer != nil {
			sh.timer.Stop()
		}
		sh.src.Close()
	}
}

// close evicts everything and shares nothing more (the store is closing,
// before the cluster connection).
func (rs *readers) close() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.closed = true
	for k := range rs.open {
		rs.drop(k)
	}
}
