package provisioner

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ceph"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestCheckLocation(t *testing.T) {
	c := newFakeCluster()
	c.put("images", "img1", 1<<20, "snap")
	c.put("images", "img2", 1<<20) // no snapshot
	c.put("other", "img1", 1<<20, "snap")
	allow := AllowList{Pools: []string{"images"}, Snapshot: "snap"}
	tests := []struct {
		name, id, format, loc, why string
	}{
		{"ok", "img1", "raw", "rbd://fsid-1/images/img1/snap", ""},
		{"iso stored raw", "img1", "iso", "rbd://fsid-1/images/img1/snap", ""},
		{"bad url", "img1", "raw", "http://example/img1", "not an rbd snapshot location"},
		{"foreign fsid", "img1", "raw", "rbd://fsid-2/images/img1/snap", "is not this cluster"},
		{"qcow2", "img1", "qcow2", "rbd://fsid-1/images/img1/snap", `disk_format "qcow2" is not raw`},
		{"pool outside allow-list", "img1", "raw", "rbd://fsid-1/other/img1/snap", "not in the allow-list"},
		{"other image", "img2", "raw", "rbd://fsid-1/images/img1/snap", "is not the image id"},
		{"other snapshot", "img1", "raw", "rbd://fsid-1/images/img1/s2", `snapshot "s2" is not "snap"`},
		{"missing snapshot", "img2", "raw", "rbd://fsid-1/images/img2/snap", "does not exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := Image{ID: tc.id, DiskFormat: tc.format}
			ref, why := checkLocation(context.Background(), c, allow, img, tc.loc)
			if tc.why == "" {
				if why != "" || ref != (ceph.SnapRef{Pool: "images", Image: tc.id, Snap: "snap"}) {
					t.Fatalf("got %v %q, want a clone of images/%s@snap", ref, why, tc.id)
				}
				return
			}
			if !strings.Contains(why, tc.why) {
				t.Fatalf("reason %q, want it to contain %q", why, tc.why)
			}
		})
	}
}

func TestChooseLocationTakesFirstGoodAndExplainsTheRest(t *testing.T) {
	c := newFakeCluster()
	c.put("images", "img1", 1<<20, "snap")
	img := Image{ID: "img1", DiskFormat: "raw", Locations: []string{
		"rbd://fsid-9/images/img1/snap",
		"https://user:secret@example/img1",
		"rbd://fsid-1/images/img1/snap",
	}}
	ref, reasons, ok := chooseLocation(context.Background(), c, AllowList{Pools: []string{"images"}, Snapshot: "snap"}, img, discard())
	if !ok || ref.Image != "img1" {
		t.Fatalf("got %v %v, want the third location", ref, ok)
	}
	if len(reasons) != 2 || strings.Contains(strings.Join(reasons, " "), "secret") {
		t.Fatalf("reasons %q: want two, without credentials", reasons)
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		inst, name string
		ok         bool
	}{
		{"6f1c2a4e-0000-4000-8000-000000000001", "disk", true},
		{"i1", "disk.local", true},
		{"base", "disk", false},
		{"a_b", "disk", false},
		{"i1", "disk.tmp-x", false},
		{"", "disk", false},
		{"i1", "../x", false},
	} {
		if err := validate(tc.inst, tc.name); (err == nil) != tc.ok {
			t.Errorf("validate(%q,%q) = %v, want ok=%v", tc.inst, tc.name, err, tc.ok)
		}
	}
	for _, tc := range []struct {
		image, inst, name string
		ok                bool
	}{
		{"i1_disk", "i1", "disk", true},
		{"i1_disk.local", "i1", "disk.local", true},
		{"base_img1", "", "", false},
		{"i1_disk.tmp-node-ab12", "", "", false},
		{"img1", "", "", false},
	} {
		inst, name, ok := splitDiskName(tc.image)
		if ok != tc.ok || inst != tc.inst || name != tc.name {
			t.Errorf("splitDiskName(%q) = %q %q %v", tc.image, inst, name, ok)
		}
	}
	if n := ceph.StageName("i1_disk", "n1"); !strings.HasPrefix(n, "i1_disk.tmp-n1-") || !ceph.IsTemp(n) || ceph.FinalName(n) != "i1_disk" {
		t.Errorf("tempName = %q", n)
	}
}
