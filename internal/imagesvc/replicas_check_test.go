package imagesvc

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// checkRace compares the final records, read straight from the catalog,
// with what the clients were told; it returns the ids of active images
// (their RBD images are the only ones the pool may hold).
func checkRace(t *testing.T, db string, ids []string, log *raceLog) (active []string) {
	t.Helper()
	ctx := context.Background()
	cat := openCatalog(t, db)
	for _, id := range ids {
		img, err := cat.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		switch img.Status {
		case catalog.StatusActive:
			if len(img.Locations) != 1 || img.Size == nil || *img.Size != 64<<10 {
				t.Errorf("image %s active without its data: %+v", id, img)
			}
			active = append(active, id)
		case catalog.StatusQueued:
		case catalog.StatusDeleted:
			if len(img.Locations) != 0 {
				t.Errorf("image %s deleted with locations %v", id, img.Locations)
			}
		default:
			t.Errorf("image %s ended %s", id, img.Status)
		}
		if log.deleted[id] != (img.Status == catalog.StatusDeleted) {
			t.Errorf("image %s: delete answered 204: %v, status %s", id, log.deleted[id], img.Status)
		}
		if img.Status == catalog.StatusDeleted {
			continue
		}
		for _, k := range log.props[id] {
			if _, ok := img.Properties[k]; !ok {
				t.Errorf("image %s lost property %s", id, k)
			}
		}
		checkMembers(t, cat, id, log)
	}
	return active
}

func checkMembers(t *testing.T, cat catalog.Catalog, id string, log *raceLog) {
	t.Helper()
	for _, p := range log.members[id] {
		_, err := cat.Member(context.Background(), id, p)
		switch removed := slices.Contains(log.gone[id], p); {
		case removed && !errorsIsNotFound(err):
			t.Errorf("image %s: member %s removed but still there (%v)", id, p, err)
		case !removed && err != nil:
			t.Errorf("image %s: member %s added but lost: %v", id, p, err)
		}
	}
}

func errorsIsNotFound(err error) bool { return errors.Is(err, errs.ErrNotFound) }

// openCatalog opens the replicas' catalog beside them, as a look behind
// the API; closed when the test ends.
func openCatalog(t *testing.T, db string) catalog.Catalog {
	t.Helper()
	cat, err := catalog.Open(context.Background(), db, catalog.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	return cat
}
