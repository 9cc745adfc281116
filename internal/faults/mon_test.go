//go:build faults

package faults

import (
	"net/http"
	"testing"
	"time"
)

// With the monitor gone the agent must not hang: every request is answered
// within the monitor timeout, 503 where the answer needs the monitor (the
// libvirt XML names the monitors; a connection needs one), success where
// the OSD alone suffices (an RBD clone of a protected snapshot is OSD ops
// only). It keeps answering /healthz and works again by itself once the
// monitor is back. A second agent started during the outage must come up
// and answer 503 within its connect timeout, then recover too.
func TestMonitorStopped(t *testing.T) {
	f := newFixture(t, "f-mon", options{})
	raw := rawImage(8<<20, 2)
	img := f.image("", "raw", raw, nil)
	before := instanceID()
	f.mustDisk(before, img) // the agent's connection is up and used
	late := newServer(t, "agent-late", f.dir, "serve", "node", "--image-service", f.images.url(),
		"--images-pool", f.imagesPool, "--vms-pool", f.vmsPool, "--node", "faultslate")

	stopMon(t)
	monUp := false
	t.Cleanup(func() {
		if !monUp { // the next tests need a monitor even if this one failed
			startMon(t, f.c)
		}
	})
	bound := agentMonTimeout + slack
	inst := instanceID()
	r := f.createDisk(inst, img)
	t.Logf("create without a monitor: %d after %s (mon timeout %s)", r.code, r.elapsed.Round(time.Millisecond), agentMonTimeout)
	if r.code != http.StatusCreated && r.code != http.StatusServiceUnavailable {
		t.Errorf("create without a monitor: %s, want 201 or 503", r)
	}
	if r.elapsed > bound {
		t.Errorf("create without a monitor took %s, want within %s", r.elapsed.Round(time.Millisecond), bound)
	}
	x := call(t, "GET", f.agent.url()+"/v1/disks/"+before+"/disk/libvirt", "", nil)
	t.Logf("libvirt XML without a monitor: %d after %s", x.code, x.elapsed.Round(time.Millisecond))
	if x.code != http.StatusServiceUnavailable || x.elapsed > bound {
		t.Errorf("libvirt XML without a monitor: %s after %s, want 503 within %s", x, x.elapsed.Round(time.Millisecond), bound)
	}
	h := call(t, "GET", f.agent.url()+"/healthz", "", nil)
	t.Logf("/healthz without a monitor: %s after %s", h, h.elapsed.Round(time.Millisecond))
	if (h.code != http.StatusOK && h.code != http.StatusServiceUnavailable) || h.elapsed > bound {
		t.Errorf("/healthz without a monitor: %s after %s, want an answer within %s", h, h.elapsed, bound)
	}
	lateUp := startDuringOutage(t, late, bound)

	startMon(t, f.c)
	monUp = true
	// Recovery by itself: the same agent process, polled until it works.
	again := instanceID()
	waitFor(t, "the agent to create a disk after the monitor returned", 2*time.Minute, func() bool {
		return f.createDisk(again, img).code == http.StatusCreated
	})
	waitFor(t, "the libvirt XML after the monitor returned", 2*time.Minute, func() bool {
		return call(t, "GET", f.agent.url()+"/v1/disks/"+before+"/disk/libvirt", "", nil).code == http.StatusOK
	})
	if !f.agent.alive() || f.agent.starts != 1 {
		t.Errorf("the agent died or was restarted; it must recover by itself")
	}
	if lateUp {
		waitFor(t, "the late agent to serve after the monitor returned", 2*time.Minute, func() bool {
			r, err := tryCall("GET", late.url()+"/v1/disks/"+before+"/disk", "", nil)
			return err == nil && r.code == http.StatusOK
		})
		late.stop(t)
	}
	want := map[string][]string{diskName(before): nil, diskName(again): nil}
	if r.code == http.StatusCreated {
		want[diskName(inst)] = nil
	}
	// Whatever failed during the outage left nothing behind.
	assertPool(t, f.c, f.vmsPool, want)
	assertContent(t, f.c, f.vmsPool, diskName(again), raw)
	for _, i := range []string{before, inst, again} {
		f.deleteInstance(i)
	}
	f.assertVMsEmpty()
}

// startDuringOutage starts an agent while the monitor is down. It must
// listen and answer a disk request with 503 within bound; it reports
// whether the agent came up.
func startDuringOutage(t *testing.T, s *server, bound time.Duration) bool {
	t.Helper()
	s.launch(t)
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) {
		if r, err := tryCall("GET", s.url()+"/v1/disks?instance_id=x", "", nil); err == nil {
			t.Logf("agent started without a monitor answers: %s after %s", r, r.elapsed.Round(time.Millisecond))
			if r.code != http.StatusServiceUnavailable || r.elapsed > bound {
				t.Errorf("agent started without a monitor: %s, want 503 within %s", r, bound)
			}
			return true
		}
		if !s.alive() {
			t.Errorf("an agent started while the monitor is down exited instead of serving (503) and "+
				"waiting for the monitor; log:\n%s", tailFile(s.logPath(s.starts), 5))
			s.p = nil
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("an agent started while the monitor is down neither listened nor exited within %s", bound)
	return false
}

// waitFor polls cond once a second until it holds or d passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("waited %s for %s", d, what)
		}
		time.Sleep(time.Second)
	}
	t.Logf("%s: after %s", what, time.Since(start).Round(time.Millisecond))
}
