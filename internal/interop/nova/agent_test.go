//go:build interop

package nova

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/ceph"
)

// agentAPI is the node agent's HTTP API (JSON, no token).
func (p *peers) agentAPI() endpoint { return endpoint{url: p.agent.url} }

// agentDisk asks the agent for a 1 GiB disk of imageID for a new
// instance and removes the instance's disks when the test ends.
func (p *peers) agentDisk(t *testing.T, imageID string) agent.Disk {
	t.Helper()
	return agentDiskAt(t, p.agentAPI(), imageID)
}

func agentDiskAt(t *testing.T, a endpoint, imageID string) agent.Disk {
	t.Helper()
	inst := newUUID(t)
	t.Cleanup(func() {
		if _, err := a.do(context.Background(), "DELETE", "/v1/instances/"+inst+"/disks", "", nil, nil); err != nil {
			t.Errorf("remove disks: %v", err)
		}
	})
	body, _ := json.Marshal(agent.CreateRequest{InstanceID: inst, Name: "disk", ImageID: imageID, SizeBytes: 1 << 30})
	var d agent.Disk
	if _, err := a.do(t.Context(), "POST", "/v1/disks", "application/json", body, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (p *peers) agentStats(t *testing.T) agent.Stats {
	t.Helper()
	var s agent.Stats
	if _, err := p.agentAPI().do(t.Context(), "GET", "/v1/stats", "", nil, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// pruneAtEnd removes the agent's unused bases when the test ends, after
// the disks (cleanups registered later run first).
func (p *peers) pruneAtEnd(t *testing.T) {
	t.Cleanup(func() {
		if _, err := p.agentAPI().do(context.Background(), "POST", "/v1/cache/prune", "", nil, nil); err != nil {
			t.Errorf("prune bases: %v", err)
		}
	})
}

// TestAgentClonesRealGlanceRaw: cowdisk's node agent, reading a real
// Glance, clones a raw image from glance_store's snapshot without reading
// a byte of it.
func TestAgentClonesRealGlanceRaw(t *testing.T) {
	p := setup(t)
	raw, _ := images(t)
	id := p.glanceImages.upload(t, "agent-raw", "raw", raw)
	before := p.agentStats(t)
	d := p.agentDisk(t, id)
	want := ceph.SnapRef{Pool: p.glancePool, Image: id, Snap: "snap"}.String()
	if d.Method != "clone" || d.Parent != want || d.Pool != p.vmsPool || d.SizeBytes != 1<<30 {
		t.Fatalf("disk %+v; want a 1 GiB clone of %s", d, want)
	}
	if after := p.agentStats(t); after.BytesDownloaded != before.BytesDownloaded || after.Downloads != before.Downloads {
		t.Fatalf("cloning downloaded: stats %+v -> %+v", before, after)
	}
	info, err := p.c.Stat(t.Context(), d.Pool, d.Image)
	if err != nil {
		t.Fatal(err)
	}
	p.checkContent(t, info, raw)
	p.logFeatures(t, info.Pool, info.Name)
}

// TestAgentRealGlanceQcow2: a qcow2 image in a real Glance is downloaded
// once, converted and kept as a base; the first and every later disk are
// base-clones of it.
func TestAgentRealGlanceQcow2(t *testing.T) {
	p := setup(t)
	raw, qcow2 := images(t)
	id := p.glanceImages.upload(t, "agent-qcow2", "qcow2", qcow2)
	p.pruneAtEnd(t)
	before := p.agentStats(t)
	first := p.agentDisk(t, id)
	mid := p.agentStats(t)
	second := p.agentDisk(t, id)
	after := p.agentStats(t)
	// The base's snapshot name is the provisioner's business; the base
	// image is named after the image, and both disks share it.
	base := p.vmsPool + "/base_" + id + "@"
	for _, d := range []agent.Disk{first, second} {
		if d.Method != "base-clone" || !strings.HasPrefix(d.Parent, base) || d.Parent != first.Parent {
			t.Fatalf("disk %+v; want a base-clone of %s*, as the first disk", d, base)
		}
	}
	if mid.Downloads != before.Downloads+1 || mid.BytesDownloaded != before.BytesDownloaded+int64(len(qcow2)) ||
		after.Downloads != mid.Downloads || after.BytesDownloaded != mid.BytesDownloaded {
		t.Fatalf("stats %+v -> %+v -> %+v; want one download of %d bytes, then none", before, mid, after, len(qcow2))
	}
	info, err := p.c.Stat(t.Context(), second.Pool, second.Image)
	if err != nil {
		t.Fatal(err)
	}
	p.checkContent(t, info, raw)
	p.logFeatures(t, info.Parent.Pool, info.Parent.Image, info.Pool, info.Name)
}

// logFeatures says which features the agent's disks and bases get. Nova
// gives its clones and imports rbd_default_features; the provisioner
// chooses its own (see the report of branch interop-nova), so this is
// shown, not asserted.
func (p *peers) logFeatures(t *testing.T, poolImage ...string) {
	t.Helper()
	for i := 0; i+1 < len(poolImage); i += 2 {
		info, err := p.c.Stat(t.Context(), poolImage[i], poolImage[i+1])
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s/%s: features %s", info.Pool, info.Name, ceph.FeatureString(info.Features))
	}
}
