//go:build interop

package nova

import (
	"encoding/json"
	"os/exec"
	"testing"
)

// rbdLayout is what `rbd info` and `rbd snap ls` say about an image that
// must be equal on both sides (not its size in objects' names or ids).
type rbdLayout struct {
	Size       uint64   `json:"size"`
	ObjectSize uint64   `json:"object_size"`
	Order      int      `json:"order"`
	Format     int      `json:"format"`
	Features   []string `json:"features"`
	Snapshots  []rbdSnap
}

type rbdSnap struct {
	Name      string `json:"name"`
	Size      uint64 `json:"size"`
	Protected string `json:"protected"`
}

// rbdJSON runs the rbd CLI against the test cluster and decodes its JSON.
func (p *peers) rbdJSON(t *testing.T, out any, args ...string) {
	t.Helper()
	cfg := p.c.Config()
	full := []string{"--conf", cfg.ConfPath, "--id", cfg.User, "--format", "json"}
	if cfg.Keyring != "" {
		full = append(full, "--keyring", cfg.Keyring)
	}
	full = append(full, args...)
	b, err := exec.CommandContext(t.Context(), "rbd", full...).Output()
	if err != nil {
		t.Fatalf("rbd %v: %v", args, err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("rbd %v: %v: %s", args, err, b)
	}
}

func (p *peers) layout(t *testing.T, pool, image string) rbdLayout {
	t.Helper()
	var l rbdLayout
	p.rbdJSON(t, &l, "info", pool+"/"+image)
	p.rbdJSON(t, &l.Snapshots, "snap", "ls", pool+"/"+image)
	return l
}

// TestSameRawFileBothSides: the same raw file uploaded to a real Glance
// and to cowdisk's image service is laid out alike in RBD (size, object
// size, format, features, one protected snapshot "snap"), and each side's
// disks clone from the other's image: cowdisk's agent from Glance's,
// Nova's imagebackend from cowdisk's.
func TestSameRawFileBothSides(t *testing.T) {
	p := setup(t)
	raw, _ := images(t)
	gid := p.glanceImages.upload(t, "same-raw", "raw", raw)
	cid := p.cowdiskImages.upload(t, "same-raw", "raw", raw)
	g, c := p.layout(t, p.glancePool, gid), p.layout(t, p.imagesPool, cid)
	gj, _ := json.Marshal(g)
	cj, _ := json.Marshal(c)
	if string(gj) != string(cj) {
		t.Fatalf("rbd layouts differ:\nglance:  %s\ncowdisk: %s", gj, cj)
	}
	if len(g.Snapshots) != 1 || g.Snapshots[0].Name != "snap" || g.Snapshots[0].Protected != "true" {
		t.Fatalf("glance_store's snapshots: %+v; want one protected snap", g.Snapshots)
	}
	if d := p.agentDisk(t, gid); d.Method != "clone" {
		t.Fatalf("cowdisk's agent did not clone Glance's image: %+v", d)
	}
	if info := p.makeNovaDisk(t, cid); info.Parent == nil || info.Parent.Image != cid {
		t.Fatalf("Nova did not clone cowdisk's image: parent %v", info.Parent)
	}
}
