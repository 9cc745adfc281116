//go:build faults

package faults

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// killOSD crashes the OSD (SIGKILL by pid).
func killOSD(t testing.TB) {
	t.Helper()
	if err := suite.cluster.KillOSD(); err != nil {
		t.Fatalf("kill osd: %v", err)
	}
}

// stopMon stops the monitor (SIGTERM by pid).
func stopMon(t testing.TB) {
	t.Helper()
	if err := suite.cluster.StopMon(); err != nil {
		t.Fatalf("stop mon: %v", err)
	}
}

// pauseOSD freezes the OSD (SIGSTOP): every op sent to it waits.
func pauseOSD(t testing.TB) {
	t.Helper()
	if err := syscall.Kill(suite.cluster.OSDPID, syscall.SIGSTOP); err != nil {
		t.Fatalf("stop osd pid %d: %v", suite.cluster.OSDPID, err)
	}
	t.Cleanup(func() { _ = syscall.Kill(suite.cluster.OSDPID, syscall.SIGCONT) })
}

// resumeOSD lets a paused OSD run again and waits until it serves.
func resumeOSD(t testing.TB, c *ceph.Cluster) {
	t.Helper()
	if err := syscall.Kill(suite.cluster.OSDPID, syscall.SIGCONT); err != nil {
		t.Fatalf("continue osd pid %d: %v", suite.cluster.OSDPID, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	waitUsable(t, ctx, c, "osd resume")
}

// startOSD restarts the OSD and waits until a client can really write.
// devcluster.StartOSD alone is not enough: the monitor still lists the
// killed OSD as up (with one OSD nobody reports it down), so its "up" check
// passes at once.
func startOSD(t testing.TB, c *ceph.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := suite.cluster.StartOSD(ctx); err != nil {
		t.Fatalf("start osd: %v\n%s", err, tailFile(filepath.Join(suite.cluster.Dir, "log", "osd.0.out"), 10))
	}
	waitUsable(t, ctx, c, "osd restart")
}

// startMon restarts the monitor and waits until the cluster serves again.
func startMon(t testing.TB, c *ceph.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := suite.cluster.StartMon(ctx); err != nil {
		t.Fatalf("start mon: %v", err)
	}
	waitUsable(t, ctx, c, "mon restart")
}

// waitUsable polls until an image can be created and removed in a probe
// pool: the moment clients can use the cluster again.
func waitUsable(t testing.TB, ctx context.Context, c *ceph.Cluster, what string) {
	t.Helper()
	start := time.Now()
	var err error
	for ctx.Err() == nil {
		if err = c.CreateImage(ctx, "vms", "faults-probe", 1<<20, ceph.ImageOptions{}); err == nil || isExists(err) {
			if err = c.Remove(ctx, "vms", "faults-probe", ceph.RemoveOptions{Retries: -1}); err == nil {
				t.Logf("%s: cluster usable after %s", what, time.Since(start).Round(time.Millisecond))
				return
			}
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("%s: cluster not usable after %s: %v", what, time.Since(start), err)
}

func isExists(err error) bool { return errors.Is(err, errs.ErrExists) }

// poolState lists a pool as image -> snapshots, and its trash.
func poolState(t testing.TB, c *ceph.Cluster, pool string) (map[string][]string, []ceph.TrashEntry) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	names, err := c.ListImages(ctx, pool)
	if err != nil {
		t.Fatalf("list %s: %v", pool, err)
	}
	state := map[string][]string{}
	for _, n := range names {
		snaps, err := c.ListSnapshots(ctx, pool, n)
		if err != nil {
			snaps = []string{"<" + err.Error() + ">"}
		}
		slices.Sort(snaps)
		state[n] = snaps
	}
	trash, err := c.ListTrash(ctx, pool)
	if err != nil {
		t.Fatalf("trash of %s: %v", pool, err)
	}
	return state, trash
}

// assertPool fails t unless pool holds exactly want (image -> snapshots)
// and nothing in its trash.
func assertPool(t testing.TB, c *ceph.Cluster, pool string, want map[string][]string) {
	t.Helper()
	got, trash := poolState(t, c, pool)
	if want == nil {
		want = map[string][]string{}
	}
	if fmt.Sprint(got) != fmt.Sprint(normalize(want)) {
		t.Errorf("pool %s holds %v, want exactly %v", pool, got, normalize(want))
	}
	if len(trash) > 0 {
		t.Errorf("pool %s has %d image(s) in the trash: %+v", pool, len(trash), trash)
	}
}

func normalize(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, v := range m {
		v = slices.Clone(v)
		if v == nil {
			v = []string{}
		}
		slices.Sort(v)
		out[k] = v
	}
	return out
}

// temporaries lists the names in pool that are temporary (".tmp-").
func temporaries(t testing.TB, c *ceph.Cluster, pool string) []string {
	t.Helper()
	state, _ := poolState(t, c, pool)
	var tmp []string
	for n := range state {
		if ceph.IsTemp(n) {
			tmp = append(tmp, n)
		}
	}
	slices.Sort(tmp)
	return tmp
}

// recorded lists what the agent's staging journal in pool records (names
// it was making when it died, until its reaper takes them).
func recorded(t testing.TB, c *ceph.Cluster, pool string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	recs, err := c.Journal(ctx, pool, nodeName)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(recs))
}

// imageSum hashes the first n bytes of pool/name (n 0: all of it).
func imageSum(t testing.TB, c *ceph.Cluster, pool, name string, n int64) [32]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := c.OpenReader(ctx, pool, name, "")
	if err != nil {
		t.Fatalf("open %s/%s: %v", pool, name, err)
	}
	defer r.Close()
	if n == 0 {
		n = r.Size()
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, n)); err != nil {
		t.Fatalf("read %s/%s: %v", pool, name, err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// assertContent checks that pool/name starts with data (a disk may be
// larger than its image; the rest is zeros and not compared).
func assertContent(t testing.TB, c *ceph.Cluster, pool, name string, data []byte) {
	t.Helper()
	if imageSum(t, c, pool, name, int64(len(data))) != sha256.Sum256(data) {
		t.Errorf("%s/%s does not hold the image's %d bytes", pool, name, len(data))
	}
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	return string(bytes.Join(lines[max(0, len(lines)-n):], []byte("\n")))
}
