package bench

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/bench/imagegen"
	"github.com/cowdisk/cowdisk/internal/bench/load"
	"github.com/cowdisk/cowdisk/internal/bench/promtext"
	rp "github.com/cowdisk/cowdisk/internal/bench/report"
	"github.com/cowdisk/cowdisk/internal/ceph"
)

// measureConcurrency compares clone throughput with the floor at a fixed
// concurrency and runs the two boot storms, on fresh uploads of one size.
func (e *env) measureConcurrency(ctx context.Context, res *rp.Result, files imagegen.Files) {
	size := e.cfg.StormSize
	fail := func(what string, err error) {
		e.cfg.Log.Error("concurrency run failed", "run", what, "err", err)
		res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", what, err))
	}
	raw, err := e.upload(ctx, "raw", files.Raw, size)
	if err != nil {
		fail("upload raw for storms", err)
		return
	}
	defer e.deleteImage(raw)

	e.cfg.Log.Info("throughput", "disks", e.cfg.Throughput, "concurrency", e.cfg.Concurrency)
	if t, err := e.floorThroughput(ctx, raw, e.cfg.Throughput, e.cfg.Concurrency); err != nil {
		fail("floor throughput", err)
	} else {
		res.Throughput = append(res.Throughput, t)
	}
	if s, err := e.storm(ctx, raw, e.cfg.Throughput, e.cfg.Concurrency); err != nil {
		fail("clone throughput", err)
	} else {
		res.Throughput = append(res.Throughput, s.Throughput)
	}

	// The qcow2 image is uploaded just before its storm: no base of it can
	// exist anywhere yet, so the storm is cold.
	storms := []struct {
		name   string
		format string
		file   string
	}{{"clonable raw", "raw", ""}, {"cold qcow2", "qcow2", files.QCOW2}}
	if s, err := e.floorStorm(ctx, raw); err != nil {
		fail("floor storm", err)
	} else {
		res.Storms = append(res.Storms, s)
	}
	for _, st := range storms {
		img := raw
		if st.file != "" {
			if img, err = e.upload(ctx, st.format, st.file, size); err != nil {
				fail("upload for storm "+st.name, err)
				continue
			}
			defer e.deleteImage(img)
		}
		e.cfg.Log.Info("storm", "image", st.name, "disks", e.cfg.StormDisks)
		s, err := e.storm(ctx, img, e.cfg.StormDisks, e.cfg.StormDisks)
		if err != nil {
			fail("storm "+st.name, err)
			continue
		}
		s.Name = st.name
		res.Storms = append(res.Storms, s)
	}
}

// floorStorm is the floor of the storms: as many bare librbd clones of the
// same snapshot, as many at once, just before the clonable storm. One storm
// is one sample, and the first after a cleanup was seen to stall (8 disks/s
// in a run where 32 at once otherwise did 37-101), so it runs twice and
// keeps the faster: the floor is what the cluster can do, and a faster
// floor only makes the target harder to meet.
func (e *env) floorStorm(ctx context.Context, img uploaded) (rp.Storm, error) {
	e.cfg.Log.Info("storm", "image", "bare clones (floor), best of 2", "disks", e.cfg.StormDisks)
	var best rp.Throughput
	for range 2 {
		t, err := e.floorThroughput(ctx, img, e.cfg.StormDisks, e.cfg.StormDisks)
		if err != nil {
			return rp.Storm{}, err
		}
		if t.DisksPerSec > best.DisksPerSec {
			best = t
		}
	}
	return rp.Storm{Name: "bare clones (floor, best of 2)", Format: img.format, Size: e.cfg.StormSize,
		Throughput: best, Methods: map[string]int{"librbd clone": best.Disks}}, nil
}

// floorThroughput makes n bare librbd clones of img, concurrency at a time,
// and removes them afterwards.
func (e *env) floorThroughput(ctx context.Context, img uploaded, n, concurrency int) (rp.Throughput, error) {
	names := make([]string, n)
	for i := range names {
		names[i] = "bench-floor-" + uuid.NewString()[:8]
	}
	defer func() {
		for _, n := range names {
			_ = e.removeImage(context.WithoutCancel(ctx), n) // not made: NotFound is nil
		}
	}()
	r, err := load.Run(ctx, len(names), concurrency, func(ctx context.Context, i int) error {
		return e.cluster.Clone(ctx, img.parent, e.cfg.VMsPool, names[i], ceph.ImageOptions{ObjectSizeOrder: img.order})
	})
	if err != nil {
		return rp.Throughput{}, err
	}
	return rp.NewThroughput(rp.PathFloor, concurrency, r.Wall.Seconds(), r.Latencies), nil
}

// storm creates n disks of one image on the trusting node, concurrency at a
// time, and reads from its /metrics how many downloads and conversions that
// took. Everything it created is removed afterwards.
func (e *env) storm(ctx context.Context, img uploaded, n, concurrency int) (rp.Storm, error) {
	nd := e.clone
	insts := make([]string, n)
	for i := range insts {
		insts[i] = uuid.NewString()
	}
	defer func() {
		for _, inst := range insts {
			_ = nd.api.DeleteInstance(context.WithoutCancel(ctx), inst)
		}
		_, _ = nd.api.Prune(context.WithoutCancel(ctx))
	}()
	before, err := promtext.Scrape(ctx, nd.metricsURL(), metricDownloads, metricConversions)
	if err != nil {
		return rp.Storm{}, err
	}
	var mu sync.Mutex
	methods := map[string]int{}
	r, err := load.Run(ctx, n, concurrency, func(ctx context.Context, i int) error {
		d, _, err := nd.api.CreateDisk(ctx, agent.CreateRequest{InstanceID: insts[i], ImageID: img.ID})
		if err == nil {
			mu.Lock()
			methods[d.Method]++
			mu.Unlock()
		}
		return err
	})
	if err != nil {
		return rp.Storm{}, err
	}
	after, err := promtext.Scrape(ctx, nd.metricsURL(), metricDownloads, metricConversions)
	if err != nil {
		return rp.Storm{}, err
	}
	return rp.Storm{
		Format: img.format, Size: e.cfg.StormSize,
		Throughput:  rp.NewThroughput(rp.PathClone, concurrency, r.Wall.Seconds(), r.Latencies),
		Downloads:   after[metricDownloads] - before[metricDownloads],
		Conversions: after[metricConversions] - before[metricConversions],
		Methods:     methods,
	}, nil
}
