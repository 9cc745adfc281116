package api

import (
	"context"
	"io"
	"net/http"
	"sync"
)

// quotaStep is how much of a chunked upload is reserved at a time: the
// catalog is asked for the project's usage once per step, not per read.
const quotaStep = 64 << 20

// storageQuota enforces Limits.UserStorageQuota. Bytes of uploads in
// progress are reserved here until the upload has ended (stored as active
// or failed), so at every decision each byte is counted in the catalog,
// here, or both (never in neither): concurrent uploads cannot overshoot.
type storageQuota struct {
	mu       sync.Mutex
	inflight map[string]int64 // project -> bytes reserved by running uploads
}

func newStorageQuota() *storageQuota { return &storageQuota{inflight: map[string]int64{}} }

// reserveStorage reserves room for an upload to an image of owner and,
// for a chunked body, replaces r.Body with one that reserves as it reads
// (see reserveFor). release must be called once the upload has ended.
func (s *Server) reserveStorage(ctx context.Context, r *http.Request, owner string, declared int64) (release func(), err error) {
	body, release, err := s.reserveFor(ctx, owner, declared, r.Body)
	if err == nil {
		r.Body = body
	}
	return release, err
}

// reserveFor reserves room for declared bytes of owner's image data read
// from body; any path that stores image data (upload, staging, import)
// calls it. A declared size (>= 0) is reserved whole, 413 at once when it
// does not fit; an unknown size (-1) is reserved as the returned body is
// read, which fails with 413 at the first byte over the quota. release
// gives the reservation back; call it once the data is stored and its
// size recorded in the catalog, or removed.
func (s *Server) reserveFor(ctx context.Context, owner string, declared int64, body io.ReadCloser) (
	io.ReadCloser, func(), error) {
	quota := s.cfg.Limits.UserStorageQuota
	if quota <= 0 {
		return body, func() {}, nil
	}
	res := &reservation{s: s, ctx: ctx, owner: owner, quota: quota}
	if declared >= 0 {
		if err := res.grow(declared, declared); err != nil {
			return nil, nil, err
		}
		return body, res.release, nil
	}
	return &quotaBody{ReadCloser: body, res: res}, res.release, nil
}

// reservation is what one upload holds.
type reservation struct {
	s              *Server
	ctx            context.Context
	owner          string
	quota          int64
	held, consumed int64
}

// grow reserves at least need and at most want more bytes. The usage is
// read under the lock: an upload that completes meanwhile is then either
// still reserved or already in the catalog.
func (res *reservation) grow(need, want int64) error {
	q := res.s.quota
	q.mu.Lock()
	defer q.mu.Unlock()
	used, err := res.s.cfg.Catalog.Usage(res.ctx, res.owner)
	if err != nil {
		return err
	}
	free := res.quota - used - q.inflight[res.owner]
	if free < need {
		return statusErr(http.StatusRequestEntityTooLarge,
			"project %s: storage quota of %d bytes exceeded (%d stored, %d held by other uploads in progress, "+
				"this upload needs %d bytes)", res.owner, res.quota, used, q.inflight[res.owner]-res.held, res.held+need)
	}
	got := min(want, free)
	q.inflight[res.owner] += got
	res.held += got
	return nil
}

func (res *reservation) release() {
	q := res.s.quota
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.inflight[res.owner] -= res.held; q.inflight[res.owner] <= 0 {
		delete(q.inflight, res.owner)
	}
	res.held = 0
}

// quotaBody reserves a chunked upload's bytes as they are read.
type quotaBody struct {
	io.ReadCloser
	res *reservation
}

func (b *quotaBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	res := b.res
	res.consumed += int64(n)
	if over := res.consumed - res.held; over > 0 {
		if gerr := res.grow(over, max(over, quotaStep)); gerr != nil {
			return n, gerr
		}
	}
	return n, err
}
