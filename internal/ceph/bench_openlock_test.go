package ceph_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cowdisk/cowdisk/internal/bench/load"
	"github.com/cowdisk/cowdisk/internal/ceph"
)

// BenchmarkOpenLock measures what serializing every open and clone costs:
// clones per second of one layering-only snapshot (the dev cluster's
// rbd_default_features) at 8 and 32 at once, with every call serialized
// (the rule before openGate) and gated (only risky images serialized).
// The two modes alternate, twice each, so load from other processes on
// the machine falls on both alike; each rate is the better of its two.
//
//	go test -tags pacific -run '^$' -bench OpenLock -benchtime 1x ./internal/ceph
func BenchmarkOpenLock(b *testing.B) {
	c, parent, vms := benchParent(b, "lockbase")
	for b.Loop() {
		for _, conc := range []int{8, 32} {
			best := map[bool]float64{}
			for _, all := range []bool{true, false, true, false} {
				best[all] = max(best[all], cloneRate(b, c, parent, vms, conc, all))
			}
			b.ReportMetric(best[true], fmt.Sprintf("clone%d-serialized-disks/s", conc))
			b.ReportMetric(best[false], fmt.Sprintf("clone%d-gated-disks/s", conc))
			b.ReportMetric(best[false]/best[true], fmt.Sprintf("clone%d-gated/serialized", conc))
		}
	}
	b.ReportMetric(0, "ns/op")
}

// cloneRate makes 64 clones of parent, conc at once, and returns clones per
// second; it removes them after.
func cloneRate(b *testing.B, c *ceph.Cluster, parent ceph.SnapRef, pool string, conc int, serializeAll bool) float64 {
	const n = 64
	ctx := context.Background()
	if serializeAll {
		defer ceph.SerializeAllOpens()()
	}
	if _, err := c.Stat(ctx, parent.Pool, parent.Image); err != nil { // as the provisioner's decision does
		b.Fatal(err)
	}
	res, err := load.Run(ctx, n, conc, func(ctx context.Context, i int) error {
		return c.Clone(ctx, parent, pool, fmt.Sprintf("lock%d_disk", i), ceph.ImageOptions{})
	})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if err := c.Remove(ctx, pool, fmt.Sprintf("lock%d_disk", i), ceph.RemoveOptions{Retries: -1}); err != nil {
			b.Fatal(err)
		}
	}
	return n / res.Wall.Seconds()
}
