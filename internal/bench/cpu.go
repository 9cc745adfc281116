package bench

import (
	"errors"

	"github.com/cowdisk/cowdisk/internal/bench/procs"
	rp "github.com/cowdisk/cowdisk/internal/bench/report"
)

// cpuNow reads the CPU seconds so far of the node agents, the image service
// and the bench with the tools it has run (rbd, qemu-img, and the naive
// pipeline's download, which runs in the bench).
func (e *env) cpuNow() (rp.CPUSample, error) {
	var s rp.CPUSample
	var errs []error
	for _, n := range []*node{e.clone, e.foreign, e.second} {
		if n != nil {
			v, err := procs.CPUSeconds(n.proc.PID())
			s.Node += v
			errs = append(errs, err)
		}
	}
	var err error
	s.Images, err = procs.CPUSeconds(e.imgProc.PID())
	errs = append(errs, err)
	s.Client, err = procs.ClientCPUSeconds()
	return s, errors.Join(append(errs, err)...)
}

// metered runs fn and keeps the CPU it cost as e.lastCPU, for record (or
// the caller) to file with the sample. Only fn is metered: the cleanup
// around it (removing the disk, image or base it made) is not the path's.
func (e *env) metered(fn func() error) error {
	e.lastCPU = nil
	before, berr := e.cpuNow()
	if err := fn(); err != nil {
		return err
	}
	after, aerr := e.cpuNow()
	if berr != nil || aerr != nil {
		// A failed read costs the CPU figure only, not the sample.
		e.cfg.Log.Warn("cpu read failed", "err", errors.Join(berr, aerr))
		return nil
	}
	d := rp.CPUSample{Node: after.Node - before.Node, Images: after.Images - before.Images, Client: after.Client - before.Client}
	e.lastCPU = &d
	return nil
}

// fileCPU files e.lastCPU (if the last measurement left one) and clears it.
func (e *env) fileCPU(res *rp.Result, p rp.Path, format string, size int64) {
	if e.lastCPU != nil {
		res.AddCPU(p, format, size, *e.lastCPU)
		e.lastCPU = nil
	}
}
