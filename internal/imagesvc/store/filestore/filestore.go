// Package filestore keeps each image as one file in a directory. A file is
// written under a temporary name and renamed into place only when complete,
// so a cut upload never looks like an image.
package filestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
)

// tmpPrefix marks files being written; Leftovers and operators can spot them.
const tmpPrefix = ".tmp-"

// Store is a directory of image files.
type Store struct {
	dir string
	// scratch: data that need not survive a crash (see NewScratch).
	scratch bool
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Sweeper = (*Store)(nil)
)

// New uses dir, creating it if needed.
func New(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("file store %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("file store %s: %w", dir, err)
	}
	return &Store{dir: abs}, nil
}

// NewScratch is New for data that is removed anyway after a crash (the
// import staging area): Put skips the fsync, which costs as much as the
// write itself on a busy disk.
func NewScratch(dir string) (*Store, error) {
	s, err := New(dir)
	if err == nil {
		s.scratch = true
	}
	return s, err
}

// ID implements store.Store.
func (s *Store) ID() string { return "file" }

// Dir is the directory holding the images.
func (s *Store) Dir() string { return s.dir }

// Put implements store.Store.
func (s *Store) Put(ctx context.Context, id string, r io.Reader, size int64) (_ store.Result, err error) {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return store.Result{}, fmt.Errorf("file store: image id %q: %w", id, errs.ErrInvalid)
	}
	f, err := os.CreateTemp(s.dir, tmpPrefix+id+"-*")
	if err != nil {
		return store.Result{}, fmt.Errorf("file store: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	n, err := io.CopyBuffer(f, store.ContextReader{Ctx: ctx, R: r}, make([]byte, 1<<20))
	if err != nil {
		return store.Result{}, fmt.Errorf("file store: write %s: %w", id, err)
	}
	// Sync before rename: after a crash the name must not point at a file
	// whose data never reached the disk.
	if err := s.sync(f); err != nil {
		return store.Result{}, fmt.Errorf("file store: sync %s: %w", id, err)
	}
	if err := f.Close(); err != nil {
		return store.Result{}, fmt.Errorf("file store: close %s: %w", id, err)
	}
	final := filepath.Join(s.dir, id)
	if _, err := os.Lstat(final); err == nil {
		return store.Result{}, fmt.Errorf("file store: %s: %w", final, errs.ErrExists)
	}
	if err := os.Rename(f.Name(), final); err != nil {
		return store.Result{}, fmt.Errorf("file store: %w", err)
	}
	if d, err := os.Open(s.dir); err == nil {
		s.sync(d) // best effort: makes the rename durable
		d.Close()
	}
	return store.Result{Size: n, Location: (&url.URL{Scheme: "file", Path: final}).String(),
		Metadata: map[string]string{"store": s.ID()}}, nil
}

func (s *Store) sync(f *os.File) error {
	if s.scratch {
		return nil
	}
	return f.Sync()
}

// path turns a location into a file path, refusing anything outside dir so
// a tampered catalog row cannot make the service read /etc/shadow.
func (s *Store) path(location string) (string, error) {
	u, err := url.Parse(location)
	if err != nil || u.Scheme != "file" {
		return "", fmt.Errorf("file store: location %q: %w", location, errs.ErrBadLocation)
	}
	p := filepath.Clean(u.Path)
	if filepath.Dir(p) != s.dir || strings.HasPrefix(filepath.Base(p), ".") {
		return "", fmt.Errorf("file store: location %q is not under %s: %w", location, s.dir, errs.ErrBadLocation)
	}
	return p, nil
}

// Open implements store.Store.
func (s *Store) Open(_ context.Context, location string) (store.Object, error) {
	p, err := s.path(location)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("file store: %s: %w", p, errs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("file store: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("file store: %w", err)
	}
	return file{f, st.Size()}, nil
}

type file struct {
	*os.File
	size int64
}

func (f file) Size() int64 { return f.size }

// Delete implements store.Store.
func (s *Store) Delete(_ context.Context, location string) error {
	p, err := s.path(location)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("file store: %w", err)
	}
	return nil
}

// Sweep implements store.Sweeper: it removes temporary files.
func (s *Store) Sweep(context.Context) ([]string, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("file store: %w", err)
	}
	var removed []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			if err := os.Remove(filepath.Join(s.dir, e.Name())); err != nil {
				return removed, fmt.Errorf("file store: %w", err)
			}
			removed = append(removed, e.Name())
		}
	}
	return removed, nil
}
