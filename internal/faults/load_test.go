//go:build faults

package faults

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	loadCycles      = 1000
	loadConcurrency = 16
	// Slack on the leak check: the agent keeps idle keep-alive connections
	// to the image service (its pool holds up to 64 per host, so that
	// parallel creates do not dial), one or two per concurrent create of the
	// run, each a goroutine pair and a socket, until they expire (90 s).
	// They are bounded by the concurrency, not the 1,000 cycles: a leak
	// per create would be far beyond this.
	goroutineSlack = 8 + 2*2*loadConcurrency
	fdSlack        = 4 + 2*loadConcurrency
)

// 1000 create-and-delete cycles at 16 concurrent through the agent API,
// half from a raw image (clone) and half from a qcow2 image (base-clone of
// the cluster-wide base): zero errors, nothing leaked in the pools, and the
// agent's goroutines and open files back at their starting level.
func TestLoadCreateDelete(t *testing.T) {
	f := newFixture(t, "f-load", options{})
	raw := rawImage(4<<20, 13)
	rawID := f.image("", "raw", raw, nil)
	qID := f.image("", "qcow2", qcow2Image(t, rawImage(8<<20, 14)), nil)
	// Warm up: the base exists and every code path has run once, so the
	// baseline includes lazily started goroutines (metrics, connection pools).
	for _, id := range []string{rawID, qID} {
		inst := instanceID()
		f.mustDisk(inst, id)
		f.deleteInstance(inst)
	}
	client.CloseIdleConnections()
	time.Sleep(time.Second)
	g0, fd0 := f.agent.goroutines(t), f.agent.fds(t)

	var next, errors atomic.Int64
	var methods sync.Map
	var firstErr atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for range loadConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > loadCycles {
					return
				}
				img := rawID
				if i%2 == 0 {
					img = qID
				}
				if err := cycle(f, instanceID(), img, &methods); err != nil {
					errors.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	counts := map[string]int64{}
	methods.Range(func(k, v any) bool { counts[k.(string)] = v.(*atomic.Int64).Load(); return true })
	t.Logf("%d cycles at %d concurrent in %s: %.1f cycles/s, %d errors, methods %v",
		loadCycles, loadConcurrency, el.Round(time.Millisecond), loadCycles/el.Seconds(), errors.Load(), counts)
	if n := errors.Load(); n > 0 {
		t.Errorf("%d of %d cycles failed; first: %v", n, loadCycles, firstErr.Load())
	}
	if counts["clone"] != loadCycles/2 || counts["base-clone"] != loadCycles/2 {
		t.Errorf("methods %v, want %d clone and %d base-clone", counts, loadCycles/2, loadCycles/2)
	}

	// Leaks: only the base of the qcow2 image may remain until pruned.
	client.CloseIdleConnections()
	var g1, fd1 int
	deadline := time.Now().Add(15 * time.Second)
	for {
		g1, fd1 = f.agent.goroutines(t), f.agent.fds(t)
		if (g1 <= g0+goroutineSlack && fd1 <= fd0+fdSlack) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("agent goroutines %d -> %d, open fds %d -> %d (slack %d and %d)", g0, g1, fd0, fd1, goroutineSlack, fdSlack)
	if g1 > g0+goroutineSlack {
		t.Errorf("agent goroutines %d after the load, %d before: leak", g1, g0)
	}
	if fd1 > fd0+fdSlack {
		t.Errorf("agent open fds %d after the load, %d before: leak", fd1, fd0)
	}
	state, _ := poolState(t, f.c, f.vmsPool)
	if len(state) != 1 {
		t.Errorf("vms pool after the load holds %d images, want only the base: %v", len(state), keys(state))
	}
	f.prune()
	f.assertVMsEmpty()
	f.assertImagesPool(rawID, qID)
}

// cycle creates one disk and deletes its instance, counting the method.
func cycle(f *fixture, inst, img string, methods *sync.Map) error {
	r, err := tryCall("POST", f.agent.url()+"/v1/disks", "", map[string]any{"instance_id": inst, "image_id": img})
	if err != nil {
		return err
	}
	if r.code != http.StatusCreated {
		return fmt.Errorf("create: %s", r)
	}
	var d struct{ Method string }
	if err := jsonUnmarshal(r.body, &d); err != nil {
		return err
	}
	c, _ := methods.LoadOrStore(d.Method, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
	r, err = tryCall("DELETE", f.agent.url()+"/v1/instances/"+inst+"/disks", "", nil)
	if err != nil {
		return err
	}
	if r.code != http.StatusNoContent {
		return fmt.Errorf("delete: %s", r)
	}
	return nil
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
