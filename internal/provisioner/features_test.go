package provisioner_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/provisioner/provtest"
)

// Disks and bases get the features the backend is given (serve node gives
// the cluster's rbd_default_features, as Nova does), on both paths, also
// when they differ from the cluster's default.
func TestDisksGetConfiguredFeatures(t *testing.T) {
	e := newClusterEnv(t)
	svc := e.rbdService(t)
	def, err := e.c.DefaultFeatures()
	if err != nil {
		t.Fatal(err)
	}
	// Something other than the cluster's default, without exclusive-lock
	// (see the dev cluster's ceph.conf): deep-flatten.
	want := ceph.FeatureLayering | 32
	if want == def|ceph.FeatureLayering {
		want = ceph.FeatureLayering
	}
	raw, _ := provtest.QemuImage(t, "raw", 4*mib)
	qcow, _ := provtest.QemuImage(t, "qcow2", 4*mib)
	b := e.backend(t, svc.source(), func(c *provisioner.RBDConfig) { c.Features = want })
	for i, img := range []string{svc.upload(t, "raw", raw), svc.upload(t, "qcow2", qcow)} {
		d, err := b.Create(context.Background(), provisioner.Request{InstanceID: fmt.Sprint("feat", i), ImageID: img})
		if err != nil {
			t.Fatal(err)
		}
		info, err := e.c.Stat(context.Background(), e.vmsPool, d.Image)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Features &^ ceph.FeatureOperations; got != want {
			t.Errorf("%s disk features %s, want %s", d.Method, ceph.FeatureString(got), ceph.FeatureString(want))
		}
	}
}
