//go:build faults

package faults

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// An OSD that dies while the agent imports an image (the fallback path)
// must turn into a "retry later" within the OSD timeout, not a hang or a
// refusal: a 503 when the agent's own write timed out first, or a 502
// saying the image service was unavailable when the service's read of the
// same cluster failed first (which one is a race). Once the OSD is back
// and the agent has reaped, nothing of the attempt remains, and the same
// request then succeeds.
func TestOSDKilledDuringFallbackImport(t *testing.T) {
	f, raw, img, inst, h, done := heldFallback(t, "f-osd", 1)
	killOSD(t)
	killed := time.Now()
	h.open()

	var r reply
	select {
	case r = <-done:
	case <-time.After(5 * time.Minute):
		t.Fatal("the agent did not answer within 5 minutes of the OSD's death")
	}
	took := time.Since(killed)
	t.Logf("answer %d after %s (OSD timeout %s): %s", r.code, took.Round(time.Millisecond), agentOSDTimeout, r)
	ownWrite := r.code == http.StatusServiceUnavailable
	serviceRead := r.code == http.StatusBadGateway && strings.Contains(string(r.body), img+": its data cannot be read now")
	if !ownWrite && !serviceRead {
		t.Errorf("status %d, want 503 (Ceph unavailable) or 502 (the image service could not read it)", r.code)
	}
	bound := agentOSDTimeout + slack
	if serviceRead {
		// Not a Ceph error on the agent's side: it waits for its cleanup
		// (which the dead OSD holds) for up to cleanupWait.
		bound += cleanupWait
	}
	if took > bound {
		t.Errorf("answered %s after the OSD died, want within %s (the OSD timeout %s, slack %s)", took.Round(time.Millisecond), bound, agentOSDTimeout, slack)
	}
	if !f.agent.alive() {
		t.Errorf("agent process died")
	}

	startOSD(t, f.c)
	// The agent reaps its temporaries when it starts; what it could not
	// remove while the OSD was down goes then.
	f.agent.stop(t)
	f.agent.start(t)
	assertPool(t, f.c, f.vmsPool, nil)
	f.assertImagesPool(img)

	d := f.mustDisk(inst, img)
	if d.Method != "base-clone" {
		t.Errorf("retry made the disk by %q, want base-clone", d.Method)
	}
	assertContent(t, f.c, f.vmsPool, diskName(inst), raw)
	f.deleteInstance(inst)
	f.prune()
	f.assertVMsEmpty()
}

// heldFallback starts a disk request whose image must be fetched and holds
// its download after 8 MiB. A raw image and an allow-list no location
// passes: the fallback streams the download straight into an RBD import (no
// local file), so at the hold the import's temporary image exists and holds
// data. done gets the agent's answer.
func heldFallback(t *testing.T, prefix string, seed uint64) (f *fixture, raw []byte, img, inst string, h *hold, done chan reply) {
	t.Helper()
	f = newFixture(t, prefix, options{allowPools: []string{prefix + "-untrusted"}})
	raw = rawImage(32<<20, seed)
	img = f.image("", "raw", raw, nil)
	inst = instanceID()
	// Held after 24 of the 32 MiB: the sparse transfer reads up to four
	// chunks for the inspector (head and tail, each with one read ahead)
	// before it creates the staged image, so by 24 MiB the image exists
	// and holds data, with chunks still to come.
	h = f.gate.arm(24 << 20)
	done = make(chan reply, 1)
	go func() {
		r, err := tryCall("POST", f.agent.url()+"/v1/disks", "", map[string]any{"instance_id": inst, "image_id": img})
		done <- orFail(r, err)
	}()
	h.wait(t, time.Minute)
	return f, raw, img, inst, h, done
}

// orFail turns a transport error into a reply the test reports, so a
// goroutine never calls t.Fatal.
func orFail(r reply, err error) reply {
	if err != nil {
		return reply{code: -1, body: []byte(err.Error())}
	}
	return r
}
