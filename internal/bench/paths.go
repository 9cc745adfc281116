package bench

import (
	"context"
	"fmt"
	"math/bits"
	"time"

	"github.com/google/uuid"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/bench/baseline"
	"github.com/cowdisk/cowdisk/internal/bench/glance"
	"github.com/cowdisk/cowdisk/internal/bench/imagegen"
	"github.com/cowdisk/cowdisk/internal/bench/procs"
	"github.com/cowdisk/cowdisk/internal/bench/promtext"
	rp "github.com/cowdisk/cowdisk/internal/bench/report"
	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/rbdloc"
)

// Metric names of the agent's /metrics the benchmark reads.
const (
	metricDownloads   = "cowdisk_image_downloads_total"
	metricConversions = "cowdisk_image_conversions_total"
)

// uploaded is one image in the image service.
type uploaded struct {
	glance.Image
	format string
	file   string // the local file it was uploaded from
	parent ceph.SnapRef
	// order is the parent's object size (log2). The floor clones with it,
	// as librbd (and `rbd clone`, and Nova) does when no order is given: a
	// child with smaller objects than the parent's stripe unit is EINVAL.
	order int
}

// measureSize runs every path for one image size, rep after rep. Paths are
// interleaved within a rep so slow drift of the cluster (memstore growing,
// page cache) spreads over all of them instead of penalising the last.
func (e *env) measureSize(ctx context.Context, res *rp.Result, size int64, files imagegen.Files) error {
	log := e.cfg.Log.With("size", rp.HumanSize(size))
	log.Info("uploading images")
	raw, err := e.upload(ctx, "raw", files.Raw, size)
	if err != nil {
		return err
	}
	defer e.deleteImage(raw)
	qcow, err := e.upload(ctx, "qcow2", files.QCOW2, size)
	if err != nil {
		return err
	}
	defer e.deleteImage(qcow)

	reps := e.cfg.repsFor(size)
	stepsBefore, err := stepSums(ctx, e.clone, "clone")
	if err != nil {
		return err
	}
	defer e.addSteps(ctx, res, size, stepsBefore)
	for rep := range reps {
		log.Info("rep", "n", rep+1, "of", reps)
		e.record(res, rp.PathFloor, rp.FormatRaw, size, e.cfg.ClonesPerRep, func() (float64, string, error) { return e.floorOnce(ctx, raw) })
		e.record(res, rp.PathClone, rp.FormatRaw, size, e.cfg.ClonesPerRep, func() (float64, string, error) { return e.agentOnce(ctx, e.clone, raw.ID) })
		for _, img := range []uploaded{raw, qcow} {
			e.coldWarm(ctx, res, img, size)
		}
		e.record(res, rp.PathRBD, rp.FormatRaw, size, 1, func() (float64, string, error) {
			return e.baselineOnce(ctx, func(name string) (time.Duration, error) {
				return e.tools.RBDImport(ctx, raw.file, e.cfg.VMsPool, name)
			})
		})
		for _, img := range []uploaded{raw, qcow} {
			e.record(res, rp.PathQemuRBD, img.format, size, 1, func() (float64, string, error) {
				return e.baselineOnce(ctx, func(name string) (time.Duration, error) {
					return e.tools.QemuToRBD(ctx, img.file, img.format, e.cfg.VMsPool, name)
				})
			})
			e.record(res, rp.PathNaive, img.format, size, 1, func() (float64, string, error) { return e.naiveOnce(ctx, img) })
		}
		e.record(res, rp.PathUpload, rp.FormatRaw, size, 1, func() (float64, string, error) { return e.uploadOnce(ctx, raw.file, size) })
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// addSteps files the clone path's per-step breakdown at size (a failed
// scrape costs the breakdown only, as a failed path costs its series).
func (e *env) addSteps(ctx context.Context, res *rp.Result, size int64, before map[string]float64) {
	after, err := stepSums(ctx, e.clone, "clone")
	if err != nil {
		res.Errors = append(res.Errors, fmt.Sprintf("clone steps at %s: %v", rp.HumanSize(size), err))
		return
	}
	if s, ok := stepMeans(rp.PathClone, size, "clone", before, after); ok {
		res.Steps = append(res.Steps, s)
	}
}

// record runs one measurement n times and files each sample (or the error).
func (e *env) record(res *rp.Result, p rp.Path, format string, size int64, n int, once func() (float64, string, error)) {
	for range n {
		sec, method, err := once()
		if err != nil {
			msg := fmt.Sprintf("%s %s %s: %v", p, format, rp.HumanSize(size), err)
			e.cfg.Log.Error("path failed", "path", p, "format", format, "size", rp.HumanSize(size), "err", err)
			res.Errors = append(res.Errors, msg)
			return
		}
		e.add(res, p, format, size, sec, method)
		e.fileCPU(res, p, format, size)
	}
}

// add files a sample and logs it, so a long run shows where its time goes.
func (e *env) add(res *rp.Result, p rp.Path, format string, size int64, sec float64, method string) {
	e.cfg.Log.Info("sample", "path", p, "format", format, "size", rp.HumanSize(size), "time", rp.Duration(sec), "how", method)
	res.Add(p, format, size, sec, method)
}

func (e *env) upload(ctx context.Context, format, file string, size int64) (uploaded, error) {
	img, err := e.images.Upload(ctx, fmt.Sprintf("bench-%s-%s", rp.HumanSize(size), format), format, file)
	if err != nil {
		return uploaded{}, err
	}
	u := uploaded{Image: img, format: format, file: file}
	// The floor clones the very snapshot the image service published; the
	// convention is the fallback if the service hides its locations.
	u.parent = ceph.SnapRef{Pool: e.cfg.ImagesPool, Image: img.ID, Snap: "snap"}
	if l, err := rbdloc.Parse(img.DirectURL); err == nil {
		u.parent = ceph.SnapRef{Pool: l.Pool, Image: l.Image, Snap: l.Snapshot}
	}
	if format == "raw" {
		info, err := e.cluster.Stat(ctx, u.parent.Pool, u.parent.Image)
		if err != nil {
			return u, fmt.Errorf("floor parent of image %s: %w", img.ID, err)
		}
		u.order = bits.TrailingZeros64(info.ObjectSize)
	}
	return u, nil
}

func (e *env) deleteImage(u uploaded) {
	if err := e.images.Delete(context.Background(), u.ID); err != nil {
		e.cfg.Log.Warn("delete image", "id", u.ID, "err", err)
	}
}

// floorOnce times one bare clone through internal/ceph, the project's only
// go-ceph wrapper, and removes it again (untimed).
func (e *env) floorOnce(ctx context.Context, img uploaded) (float64, string, error) {
	name := "bench-floor-" + uuid.NewString()[:8]
	t0 := time.Now()
	err := e.cluster.Clone(ctx, img.parent, e.cfg.VMsPool, name, ceph.ImageOptions{ObjectSizeOrder: img.order})
	d := time.Since(t0).Seconds()
	if err != nil {
		return 0, "", err
	}
	return d, "", e.removeImage(ctx, name)
}

func (e *env) removeImage(ctx context.Context, name string) error {
	return e.cluster.Remove(ctx, e.cfg.VMsPool, name, ceph.RemoveOptions{Retries: 5, Interval: time.Second, TrashAsLastResort: true})
}

// agentOnce times one POST /v1/disks from request to answer, then deletes
// the instance's disks (untimed).
func (e *env) agentOnce(ctx context.Context, n *node, imageID string) (float64, string, error) {
	inst := uuid.NewString()
	sec, d, err := createDisk(ctx, n, inst, imageID)
	if err != nil {
		return 0, "", err
	}
	return sec, d.Method, n.api.DeleteInstance(ctx, inst)
}

func createDisk(ctx context.Context, n *node, inst, imageID string) (float64, agent.Disk, error) {
	t0 := time.Now()
	d, _, err := n.api.CreateDisk(ctx, agent.CreateRequest{InstanceID: inst, ImageID: imageID})
	sec := time.Since(t0).Seconds()
	if err != nil {
		return 0, d, fmt.Errorf("%s: create disk of image %s: %w", n.name, imageID, err)
	}
	return sec, d, nil
}

// coldWarm makes the first disk of img on the foreign node (no base exists:
// cold) and then one on the second node (the base exists: warm), and prunes
// the base so the next rep is cold again. Each disk's node has its peak RSS
// reset before and read after, and its CPU split is filed with the sample.
func (e *env) coldWarm(ctx context.Context, res *rp.Result, img uploaded, size int64) {
	cold, warm := uuid.NewString(), uuid.NewString()
	defer e.cleanupDisks(ctx, map[*node]string{e.foreign: cold, e.second: warm})
	if !e.firstDisk(ctx, res, rp.PathCold, e.foreign, cold, img, size) {
		return
	}
	e.firstDisk(ctx, res, rp.PathWarm, e.second, warm, img, size)
}

// firstDisk makes the disk of instance inst from img on n, measured as path
// p: time, CPU and n's peak RSS. It reports whether it worked.
func (e *env) firstDisk(ctx context.Context, res *rp.Result, p rp.Path, n *node, inst string, img uploaded, size int64) bool {
	pid := n.proc.PID()
	rssErr := procs.ResetPeakRSS(pid)
	sec, method, err := e.withDownloads(ctx, n, func() (float64, agent.Disk, error) { return createDisk(ctx, n, inst, img.ID) })
	if err != nil {
		e.cfg.Log.Error("path failed", "path", p, "format", img.format, "size", rp.HumanSize(size), "err", err)
		res.Errors = append(res.Errors, fmt.Sprintf("%s %s %s: %v", p, img.format, rp.HumanSize(size), err))
		return false
	}
	e.add(res, p, img.format, size, sec, method)
	e.fileCPU(res, p, img.format, size)
	if rssErr == nil {
		var peak uint64
		if peak, rssErr = procs.PeakRSS(pid); rssErr == nil {
			res.RSS = appendRSS(res.RSS, rp.RSS{Path: p, Format: img.format, Size: size, PeakBytes: peak, Seconds: sec})
		}
	}
	if rssErr != nil {
		res.Errors = append(res.Errors, fmt.Sprintf("%s %s %s: peak RSS: %v", p, img.format, rp.HumanSize(size), rssErr))
	}
	return true
}

// appendRSS keeps the highest peak per path, format and size over the reps.
func appendRSS(all []rp.RSS, x rp.RSS) []rp.RSS {
	for i := range all {
		if all[i].Path == x.Path && all[i].Format == x.Format && all[i].Size == x.Size {
			if x.PeakBytes > all[i].PeakBytes {
				all[i] = x
			}
			return all
		}
	}
	return append(all, x)
}

// withDownloads runs create and labels its method with the downloads it
// caused on that node, so the JSON shows a cold disk really was cold and a
// warm one moved no image byte. create alone is metered (e.lastCPU): the
// CPU split tells a busy path from a waiting one.
func (e *env) withDownloads(ctx context.Context, n *node, create func() (float64, agent.Disk, error)) (float64, string, error) {
	before, err := promtext.Scrape(ctx, n.metricsURL(), metricDownloads)
	if err != nil {
		return 0, "", err
	}
	var sec float64
	var d agent.Disk
	if err := e.metered(func() (err error) { sec, d, err = create(); return err }); err != nil {
		return 0, "", err
	}
	after, err := promtext.Scrape(ctx, n.metricsURL(), metricDownloads)
	if err != nil {
		return 0, "", err
	}
	return sec, fmt.Sprintf("%s, %g download(s)", d.Method, after[metricDownloads]-before[metricDownloads]), nil
}

// cleanupDisks deletes the given instances' disks and prunes the now unused
// bases, so the next cold measurement finds no base.
func (e *env) cleanupDisks(ctx context.Context, instances map[*node]string) {
	ctx = context.WithoutCancel(ctx)
	for n, inst := range instances {
		if err := n.api.DeleteInstance(ctx, inst); err != nil {
			e.cfg.Log.Warn("delete instance", "node", n.name, "instance", inst, "err", err)
		}
	}
	if _, err := e.foreign.api.Prune(ctx); err != nil {
		e.cfg.Log.Warn("prune bases", "err", err)
	}
}

// baselineOnce runs one baseline into a fresh name and removes the result.
func (e *env) baselineOnce(ctx context.Context, run func(name string) (time.Duration, error)) (float64, string, error) {
	name := "bench-base-" + uuid.NewString()[:8]
	var d time.Duration
	err := e.metered(func() (err error) { d, err = run(name); return err })
	rerr := e.removeImage(context.WithoutCancel(ctx), name)
	if err != nil {
		return 0, "", err
	}
	return d.Seconds(), "", rerr
}

func (e *env) naiveOnce(ctx context.Context, img uploaded) (float64, string, error) {
	dir, err := e.cfg.workDir("naive")
	if err != nil {
		return 0, "", err
	}
	var tm baseline.Timing
	sec, _, err := e.baselineOnce(ctx, func(name string) (time.Duration, error) {
		var err error
		tm, err = e.tools.Naive(ctx, baseline.Download{URL: e.images.DataURL(img.ID), Header: e.images.Header()}, img.format, dir, e.cfg.VMsPool, name)
		return tm.Total, err
	})
	// The phases go into the JSON next to the total: whoever thinks the
	// baseline should skip or add a step can recompute it.
	return sec, fmt.Sprintf("download %.2fs, convert %.2fs, import %.2fs", tm.Download.Seconds(), tm.Convert.Seconds(), tm.Import.Seconds()), err
}
