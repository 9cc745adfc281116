package imagesvc

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/ostest"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// TestDeleteCutByCrash: a delete is claimed (pending_delete under a
// replica's lease) and the replica dies, before or after removing the
// data. Once the lease expires the sweep of a live service finishes it:
// the record is deleted and the pool clean. On both catalog backends.
func TestDeleteCutByCrash(t *testing.T) {
	for _, tc := range []struct {
		backend  string
		dataGone bool // the crash came after the data was removed
	}{{"sqlite", false}, {"sqlite", true}, {"postgres", false}, {"postgres", true}} {
		name := tc.backend
		if tc.dataGone {
			name += "/data-removed"
		}
		t.Run(name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "c.db")
			if tc.backend == "postgres" {
				var err error
				if db, err = ostest.StartPostgres(t).CreateDatabase(context.Background(), "images"); err != nil {
					t.Fatal(err)
				}
			}
			s, c, pool, _ := startRBD(t, func(cfg *Config) { cfg.DB, cfg.LeaseTTL = db, testLease })
			id := createImage(t, s, "doomed")
			if code, body := call(t, s, "PUT", "/v2/images/"+id+"/file", "member", "application/octet-stream",
				strings.Repeat("x", 1<<20)); code != 204 {
				t.Fatalf("upload: %d %s", code, body)
			}
			crashMidDelete(t, db, id, tc.dataGone, func(loc string) {
				if err := c.Remove(context.Background(), pool, id, ceph.RemoveOptions{}); err != nil {
					t.Fatal(err)
				}
			})
			waitFor(t, 60*time.Second, "the sweep finished the delete", func() bool {
				return imageStatus(t, s, id) == "" // 404: deleted
			})
			testcluster.AssertPoolClean(t, c, pool)
		})
	}
}

// crashMidDelete leaves what a replica dying inside a delete leaves: the
// record pending_delete under a lease that has expired, the data still
// there unless dataGone (then removeData runs).
func crashMidDelete(t *testing.T, db, id string, dataGone bool, removeData func(string)) {
	t.Helper()
	ctx := context.Background()
	cat := openCatalog(t, db)
	img, err := cat.Update(ctx, id, func(i *catalog.Image) error {
		i.Lease.Take("dead-replica", -time.Second, i.Status)
		i.Status = catalog.StatusPendingDelete
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if dataGone {
		removeData(img.Locations[0].URL)
	}
}
