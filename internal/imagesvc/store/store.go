// Package store defines where the image service keeps image data. The API
// streams an upload (already inspected and hashed) into a Store and records
// the returned location in the catalog; stores know nothing of HTTP, auth or
// image formats.
package store

import (
	"context"
	"fmt"
	"io"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// Store keeps image data. Implementations: filestore, rbdstore.
type Store interface {
	// ID names the store in /v2/info/stores ("file", "rbd").
	ID() string
	// Put writes the data of image id from r. size is the declared length or
	// -1 when unknown. Put makes the data visible under its final name only
	// when r has been read to EOF without error; on any error nothing of the
	// upload remains in the store.
	Put(ctx context.Context, id string, r io.Reader, size int64) (Result, error)
	// Open returns the data at a location Put returned.
	Open(ctx context.Context, location string) (Object, error)
	// Delete removes the data at location. Already gone is not an error.
	// Data other images or disks depend on is left alone and an *InUseError
	// returned.
	Delete(ctx context.Context, location string) error
}

// Result describes stored data.
type Result struct {
	Size     int64             // bytes written
	Location string            // URL for the catalog, e.g. rbd://fsid/pool/image/snap
	Metadata map[string]string // location metadata shown to service callers
	// MD5 and SHA512 (hex) are set by stores that implement Hasher.
	MD5, SHA512 string
}

// Hasher is implemented by stores whose Put already computes md5 and
// sha512 of the data and returns them in Result, so the API does not hash
// every byte a second time (on a small node the CPU is shared with Ceph).
type Hasher interface {
	HashesData() bool
}

// Teeing is implemented by stores whose write pipeline can hand the data,
// in stream order, to more writers, each on a goroutine of its own beside
// the store's own hashes (rbdstore: ceph.Import's buffers). The API gives
// it the chunk digester this way, so no consumer of the stream waits for
// another. PutTee is Put, returning once every tee has seen the last byte.
type Teeing interface {
	PutTee(ctx context.Context, id string, r io.Reader, size int64, tees []io.Writer) (Result, error)
}

// Object is stored data opened for reading.
type Object interface {
	io.ReaderAt
	Size() int64
	Close() error
}

// Windowed is implemented by objects that read ahead: Window tells them
// the one byte range [lo, hi) a request will read, so they fetch nothing
// beyond it. Reads outside the window must still work.
type Windowed interface {
	Window(lo, hi int64)
}

// InUseError says data cannot be removed because Count disks (clones)
// depend on it. It matches errs.ErrInUse.
type InUseError struct {
	Location string
	Count    int
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("%s has %d dependent disk(s): %v", e.Location, e.Count, errs.ErrInUse)
}

// Unwrap makes errors.Is(err, errs.ErrInUse) true.
func (e *InUseError) Unwrap() error { return errs.ErrInUse }

// Sweeper is implemented by stores that can find data a crashed process
// left half-written (temporary files or images) and remove it. The service
// sweeps once at start, before it accepts uploads, so it must be the only
// writer of its store.
type Sweeper interface {
	Sweep(ctx context.Context) (removed []string, err error)
}

// SlowSweeper is a Sweeper whose removals may have to wait: an RBD image a
// killed process still watches stays busy until the watch times out
// (~30 s), and removing it earlier only moves it to the trash. The service
// lists the leftovers before it serves and removes exactly those in the
// background while it serves, so the uploads it accepts meanwhile (new
// temporary names) are never touched.
type SlowSweeper interface {
	Sweeper
	Leftovers(ctx context.Context) ([]string, error)
	RemoveLeftovers(ctx context.Context, names []string) (removed []string, err error)
}
