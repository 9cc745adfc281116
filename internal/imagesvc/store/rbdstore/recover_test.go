package rbdstore

import (
	"bytes"
	"slices"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// TestRecoverAfterCrash builds what a crash leaves (a temporary image, an
// image without its snapshot) and checks the service's start-up sweep and
// a new upload deal with them, while other tools' images stay.
func TestRecoverAfterCrash(t *testing.T) {
	ctx, c, s, _ := setup(t, Config{ChunkSize: 1 << 20})
	const (
		tmp      = "6a1f0c55-3f7e-4c55-9c55-000000000003.tmp-crash"
		snapless = "6a1f0c55-3f7e-4c55-9c55-000000000004"
		foreign  = "someone-else.tmp-x"
	)
	for _, n := range []string{tmp, snapless, foreign} {
		if err := c.CreateImage(ctx, s.cfg.Pool, n, 1<<20, ceph.ImageOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { c.Remove(ctx, s.cfg.Pool, foreign, ceph.RemoveOptions{Retries: -1}) })
	removed, err := s.Sweep(ctx)
	if err != nil || !slices.Equal(removed, []string{tmp}) {
		t.Fatalf("sweep removed %v (%v), want only %s", removed, err, tmp)
	}
	res, err := s.Put(ctx, snapless, bytes.NewReader([]byte("data")), 4)
	if err != nil {
		t.Fatalf("upload over a snapshot-less leftover: %v", err)
	}
	if _, err := s.Put(ctx, snapless, bytes.NewReader([]byte("data")), 4); err == nil {
		t.Fatal("a second Put over a complete image succeeded")
	}
	if err := s.Delete(ctx, res.Location); err != nil {
		t.Fatal(err)
	}
	testcluster.AssertPoolClean(t, c, s.cfg.Pool, foreign)
}
