// Package staging is where the image service keeps data uploaded with
// PUT /v2/images/{id}/stage until POST /v2/images/{id}/import moves it into
// the store (Glance's glance-direct import). It is a file store in a
// directory of its own under the service's data directory; a staged file
// is named by the image id only, and only a canonical UUID is accepted.
package staging

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/google/uuid"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/filestore"
)

// Area is the staging directory (not fsynced: staged data is cleared at
// start anyway). It is a store.Store (Put writes under a
// temporary name and renames only when complete) and a store.Hasher that
// skips hashing: staged data is inspected on the way in, and hashed once,
// on its way into the real store at import.
type Area struct {
	*filestore.Store
}

var (
	_ store.Store  = (*Area)(nil)
	_ store.Hasher = (*Area)(nil)
)

// New uses dir, creating it if needed.
func New(dir string) (*Area, error) {
	fs, err := filestore.NewScratch(dir)
	if err != nil {
		return nil, fmt.Errorf("staging area: %w", err)
	}
	return &Area{fs}, nil
}

// HashesData implements store.Hasher (see Area).
func (a *Area) HashesData() bool { return true }

// Put implements store.Store, refusing anything but a canonical image id
// as the file name.
func (a *Area) Put(ctx context.Context, id string, r io.Reader, size int64) (store.Result, error) {
	if err := checkID(id); err != nil {
		return store.Result{}, err
	}
	return a.Store.Put(ctx, id, r, size)
}

// Location is where Put keeps the staged data of image id.
func (a *Area) Location(id string) (string, error) {
	if err := checkID(id); err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: filepath.Join(a.Dir(), id)}).String(), nil
}

// Clear removes everything staged. The service calls it at start: an
// import cut by a crash is not resumed (its image goes back to queued).
func (a *Area) Clear() ([]string, error) {
	ents, err := os.ReadDir(a.Dir())
	if err != nil {
		return nil, fmt.Errorf("staging area: %w", err)
	}
	var removed []string
	for _, e := range ents {
		if err := os.Remove(filepath.Join(a.Dir(), e.Name())); err != nil {
			return removed, fmt.Errorf("staging area: %w", err)
		}
		removed = append(removed, e.Name())
	}
	return removed, nil
}

func checkID(id string) error {
	if u, err := uuid.Parse(id); err != nil || u.String() != id {
		return fmt.Errorf("staging area: image id %q is not a canonical UUID: %w", id, errs.ErrInvalid)
	}
	return nil
}
