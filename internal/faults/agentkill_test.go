//go:build faults

package faults

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// An agent killed while it imports an image (fallback) leaves only
// temporary names; the restarted agent removes them, and repeating the
// request makes exactly one disk.
func TestAgentKilledMidFallback(t *testing.T) {
	f, raw, img, inst, h, _ := heldFallback(t, "f-akf", 3)
	tmp := temporaries(t, f.c, f.vmsPool)
	if len(tmp) == 0 {
		t.Fatal("no temporary image while the import is held: the kill would not be mid-import")
	}
	t.Logf("killing the agent with %v in the pool", tmp)
	f.agent.kill(t)
	h.open()

	f.agent.start(t)
	if left := temporaries(t, f.c, f.vmsPool); len(left) > 0 {
		t.Errorf("after restart temporaries remain: %v", left)
	}
	if left := recorded(t, f.c, f.vmsPool); len(left) > 0 {
		t.Errorf("after restart the journal still records %v", left)
	}
	assertPool(t, f.c, f.vmsPool, nil)

	d := f.mustDisk(inst, img)
	if d.Method != "base-clone" {
		t.Errorf("method %q, want base-clone", d.Method)
	}
	oneDisk(t, f, inst, img)
	assertContent(t, f.c, f.vmsPool, diskName(inst), raw)
	f.deleteInstance(inst)
	f.prune()
	f.assertVMsEmpty()
}

// An agent killed while it clones (many clones in flight) leaves only
// names its journal records; after restart none is recorded, no disk is
// left incomplete, and repeating every request gives each instance exactly
// one disk.
func TestAgentKilledMidClone(t *testing.T) {
	f := newFixture(t, "f-akc", options{})
	raw := rawImage(stormImageSize, 4)
	img := f.image("", "raw", raw, nil)
	var insts []string
	var tmp []string
	// Every disk is cloned in place under its name after an intent is
	// recorded, and counts once its completion marker is written (grown
	// first if larger than the image), so a crash can only leave recorded
	// names. The storm mixes both sizes.
	// Those are a few short Ceph calls and a bare kill rarely lands
	// between them. So while a storm of clones runs, the test watches the
	// journal; the moment it records a name it pauses the OSD (SIGSTOP),
	// which holds that request before its marker, and kills the agent
	// there. Ops already sent may still apply when the OSD resumes, as in
	// any crash.
	for attempt := 1; attempt <= 5 && len(tmp) == 0; attempt++ {
		if attempt > 1 {
			f.agent.start(t)
		}
		batch := make(chan string, 64)
		for range 64 {
			id := instanceID()
			insts = append(insts, id)
			batch <- id
		}
		close(batch)
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range batch {
					if _, err := tryCall("POST", f.agent.url()+"/v1/disks", "", stormRequest(id, img)); err != nil {
						return // the agent is gone
					}
				}
			}()
		}
		watchFor(t, f, time.Minute)
		pauseOSD(t)
		f.agent.kill(t)
		resumeOSD(t, f.c)
		wg.Wait()
		tmp = recorded(t, f.c, f.vmsPool)
		t.Logf("storm %d: killed with %v recorded in the journal", attempt, tmp)
	}
	if len(tmp) == 0 {
		t.Fatal("could not catch the agent mid-clone in 5 storms")
	}
	f.agent.start(t)
	if left := temporaries(t, f.c, f.vmsPool); len(left) > 0 {
		t.Errorf("after restart temporaries remain: %v", left)
	}
	if left := recorded(t, f.c, f.vmsPool); len(left) > 0 {
		t.Errorf("after restart the journal still records %v", left)
	}
	want := map[string][]string{}
	for _, id := range insts {
		r := call(t, "POST", f.agent.url()+"/v1/disks", "", stormRequest(id, img))
		if r.code != http.StatusCreated && r.code != http.StatusOK {
			t.Errorf("repeat create of %s: %s", id, r)
			continue
		}
		want[diskName(id)] = nil
	}
	assertPool(t, f.c, f.vmsPool, want)
	for _, id := range insts {
		f.deleteInstance(id)
	}
	f.assertVMsEmpty()
}

// stormRequest asks for a disk twice the image's size for half of the
// instances (by the id's first hex digit), so the retry asks for the same.
func stormRequest(id, img string) map[string]any {
	req := map[string]any{"instance_id": id, "image_id": img}
	if id[0] < '8' {
		req["size_bytes"] = 2 * stormImageSize
	}
	return req
}

const stormImageSize = 4 << 20

// watchFor reads the agent's journal until it records a name (or d
// passes, or the storm is over).
func watchFor(t *testing.T, f *fixture, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for ctx.Err() == nil {
		recs, err := f.c.Journal(ctx, f.vmsPool, nodeName)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) > 0 {
			return
		}
	}
}

// oneDisk checks the instance has exactly one disk, from img, and that a
// repeated request returns it (200) instead of making another.
func oneDisk(t *testing.T, f *fixture, inst, img string) {
	t.Helper()
	if ds := f.disks(inst); len(ds) != 1 || ds[0].ImageID != img {
		t.Errorf("instance %s has disks %+v, want one from %s", inst, ds, img)
	}
	if r := f.createDisk(inst, img); r.code != http.StatusOK {
		t.Errorf("repeating the request: %s, want 200 with the existing disk", r)
	}
}
