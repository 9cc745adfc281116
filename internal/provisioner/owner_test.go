package provisioner

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ceph"
)

// The owner is written, with the completion marker after it, on a disk
// cloned in place once its intent is recorded, for every method; Get reads
// it back, and a flattened disk still tells its image from the metadata.
func TestOwnerRecordedBeforeComplete(t *testing.T) {
	f := newRBDFixture(t, nil)
	f.cloneable("0b0b0b0b-0000-4000-8000-00000000000b", 4*mib)
	f.downloadable("0c0c0c0c-0000-4000-8000-00000000000c", make([]byte, 2*mib))
	ctx := context.Background()
	for inst, tc := range map[string]struct {
		image  string
		method Method
	}{"i1": {"0b0b0b0b-0000-4000-8000-00000000000b", MethodClone}, "i2": {"0c0c0c0c-0000-4000-8000-00000000000c", MethodBaseClone}} {
		d, err := f.b.Create(ctx, Request{InstanceID: inst, ImageID: tc.image, Owner: "p1"})
		if err != nil || d.Owner != "p1" {
			t.Fatalf("%s: %+v %v", inst, d, err)
		}
		intent := slices.Index(f.c.calls, "intent vms/"+inst+"_disk")
		clone := slices.IndexFunc(f.c.calls, func(s string) bool { return strings.HasPrefix(s, "clone ") })
		set := slices.Index(f.c.calls, "set-metadata vms/"+inst+"_disk")
		if intent < 0 || clone < intent || set < clone {
			t.Fatalf("%s: want intent, clone, metadata in that order: %v", inst, f.c.calls)
		}
		meta, err := f.c.Metadata(ctx, "vms", inst+"_disk")
		if err != nil || meta[MetaOwner] != "p1" || meta[MetaImageID] != tc.image || meta[MetaMethod] != string(tc.method) || meta[ceph.MetaComplete] == "" {
			t.Fatalf("%s: metadata %v %v", inst, meta, err)
		}
		if recs := f.c.records("vms", "n1"); len(recs) != 0 {
			t.Fatalf("%s: journal still records %v", inst, recs)
		}
		f.c.calls = nil
		if d, err := f.b.Flatten(ctx, inst, "disk"); err != nil || d.Owner != "p1" || d.ImageID != tc.image {
			t.Fatalf("%s flattened: %+v %v", inst, d, err)
		}
	}
	if _, err := f.b.Create(ctx, Request{InstanceID: "i3", ImageID: "0b0b0b0b-0000-4000-8000-00000000000b", Owner: strings.Repeat("x", 300)}); err == nil {
		t.Fatal("a 300-byte owner was accepted")
	}
}
