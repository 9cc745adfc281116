package ceph_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// full is the feature set Ceph 16 defaults to and glance_store and Nova
// use on the dev cluster.
const full = 1 | 4 | 8 | 16 | 32

func TestParseFeatures(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		bad  string // part of the error, "" when valid
	}{
		{in: "layering,exclusive-lock,object-map,fast-diff,deep-flatten", want: full},
		{in: "61", want: full},
		{in: " layering , deep-flatten", want: 33},
		{in: "1", want: 1},
		{in: "layering,exclusive-lock,object-map,fast-diff,deep-flatten,journaling", want: full | 64},
		{in: "layering,object-map", bad: "object-map needs exclusive-lock"},
		{in: "layering,exclusive-lock,fast-diff", bad: "fast-diff needs object-map"},
		{in: "layering,bogus", bad: `feature "bogus"`},
		{in: "", bad: `feature ""`},
		{in: "129", bad: "bits 0x80 cannot be set"},
		{in: "layering,operations", bad: `feature "operations"`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ceph.ParseFeatures(tc.in)
			if tc.bad != "" {
				if !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("ParseFeatures(%q) = %v, %v; want ErrInvalid saying %q", tc.in, got, err, tc.bad)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseFeatures(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
			// The names round-trip, which is how `rbd info` prints them.
			if again, err := ceph.ParseFeatures(ceph.FeatureString(got)); err != nil || again != got {
				t.Fatalf("round trip of %q via %q = %d, %v", tc.in, ceph.FeatureString(got), again, err)
			}
		})
	}
	if s := ceph.FeatureString(1 | 256 | 1<<20); s != "layering,operations,0x100000" {
		t.Fatalf("FeatureString with an unknown bit = %q", s)
	}
}

// rbdCLI runs the rbd command against the test cluster and returns stdout.
func rbdCLI(t *testing.T, c *ceph.Cluster, args ...string) []byte {
	t.Helper()
	cfg := c.Config()
	base := []string{"--conf", cfg.ConfPath, "--id", cfg.User}
	if cfg.Keyring != "" {
		base = append(base, "--keyring", cfg.Keyring)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("rbd", append(base, args...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rbd %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// rbdInfo is what `rbd info --format json` says about an image.
type rbdInfo struct {
	Features []string `json:"features"`
	Flags    []string `json:"flags"`
	Order    int      `json:"order"`
	Parent   *struct {
		Pool, Image, Snapshot string
	} `json:"parent"`
}

func rbdInfoOf(t *testing.T, c *ceph.Cluster, spec string) rbdInfo {
	t.Helper()
	var info rbdInfo
	if err := json.Unmarshal(rbdCLI(t, c, "info", "--format", "json", spec), &info); err != nil {
		t.Fatalf("rbd info %s: %v", spec, err)
	}
	return info
}

// TestDefaultFeatures compares the value read through librados with what
// the ceph-conf tool reads from the same configuration.
func TestDefaultFeatures(t *testing.T) {
	_, c, _, _ := setup(t)
	got, err := c.DefaultFeatures()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ceph-conf", "-c", c.Config().ConfPath, "--name", "client."+c.Config().User,
		"--show-config-value", "rbd_default_features").Output()
	if err != nil {
		t.Fatalf("ceph-conf: %v", err)
	}
	want, err := ceph.ParseFeatures(string(out))
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("DefaultFeatures = %s, ceph-conf says %s", ceph.FeatureString(got), ceph.FeatureString(want))
	}
}

// TestImportWithDefaultFeatures: a thin, parallel import into an image
// with exclusive-lock, object-map and fast-diff leaves a valid object map
// (no "object map invalid" flag, `rbd object-map check` passes), fast-diff
// counts exactly the written objects, and clones of it, with layering only
// or the full set, read back the parent's data.
func TestImportWithDefaultFeatures(t *testing.T) {
	ctx, c, images, vms := setup(t)
	const obj = 4 * mib
	data := make([]byte, 10*obj)
	copy(data[obj:], randomData(t, obj))         // object 1
	copy(data[5*obj+4096:], randomData(t, 8192)) // part of object 5
	copy(data[9*obj:], randomData(t, obj))       // object 9
	name := imageName(t, "")
	res, err := c.Import(ctx, bytes.NewReader(data), int64(len(data)), images, name,
		ceph.ImportOptions{ImageOptions: ceph.ImageOptions{Features: full}, Workers: 4, ChunkSize: 1 * mib})
	if err != nil {
		t.Fatal(err)
	}
	removeAtEnd(t, c, images, name)
	checkFeatures(t, c, images, name, full)
	rbdCLI(t, c, "object-map", "check", images+"/"+name)
	// Zero 4 KiB blocks are skipped: two full objects and two blocks.
	if res.Written != 2*obj+8192 {
		t.Fatalf("written %d bytes, want %d", res.Written, 2*obj+8192)
	}
	// rbd du counts objects from the object map (fast-diff): exactly the
	// three objects written to.
	var du struct {
		Images []struct {
			UsedSize uint64 `json:"used_size"`
		} `json:"images"`
	}
	if err := json.Unmarshal(rbdCLI(t, c, "du", "--format", "json", images+"/"+name), &du); err != nil {
		t.Fatal(err)
	}
	if len(du.Images) != 1 || du.Images[0].UsedSize != 3*obj {
		t.Fatalf("rbd du: %+v; want 3 objects (%d bytes) used", du, 3*obj)
	}
	used, err := c.UsedBytes(ctx, images, name)
	if err != nil || used < res.Written || used > 3*obj {
		t.Fatalf("UsedBytes = %d, %v; want between %d and %d", used, err, res.Written, 3*obj)
	}
	if err := c.CreateSnapshot(ctx, images, name, "snap"); err != nil {
		t.Fatal(err)
	}
	if err := c.ProtectSnapshot(ctx, images, name, "snap"); err != nil {
		t.Fatal(err)
	}
	parent := ceph.SnapRef{Pool: images, Image: name, Snap: "snap"}
	for _, f := range []uint64{ceph.FeatureLayering, full} {
		child := name + "-" + strings.ReplaceAll(ceph.FeatureString(f), ",", "-")
		if err := c.Clone(ctx, parent, vms, child, ceph.ImageOptions{Features: f}); err != nil {
			t.Fatalf("clone with %s: %v", ceph.FeatureString(f), err)
		}
		removeAtEnd(t, c, vms, child)
		checkFeatures(t, c, vms, child, f|ceph.FeatureOperations) // clone format 2
		if !bytes.Equal(readAll(t, ctx, c, vms, child, ""), data) {
			t.Fatalf("clone %s does not read back the parent's data", child)
		}
	}
}

// checkFeatures asserts pool/name has exactly features f, as librbd and the
// rbd CLI see it, and no invalid object map.
func checkFeatures(t *testing.T, c *ceph.Cluster, pool, name string, f uint64) {
	t.Helper()
	st, err := c.Stat(t.Context(), pool, name)
	if err != nil {
		t.Fatal(err)
	}
	info := rbdInfoOf(t, c, pool+"/"+name)
	if st.Features != f || strings.Join(info.Features, ",") != ceph.FeatureString(f) || len(info.Flags) != 0 {
		t.Fatalf("%s/%s: features %s (rbd info: %v, flags %v); want %s and no flags",
			pool, name, ceph.FeatureString(st.Features), info.Features, info.Flags, ceph.FeatureString(f))
	}
}
