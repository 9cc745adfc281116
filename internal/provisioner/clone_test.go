package provisioner_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/provisioner/provtest"
)

// relocated shows an image's locations rewritten: the image service never
// lets a caller set locations, so this is how a test presents the node with a
// location that is well-formed but must not be cloned.
type relocated struct {
	provisioner.ImageSource
	rewrite func(id string, locs []string) []string
}

func (r relocated) Image(ctx context.Context, id string) (provisioner.Image, error) {
	img, err := r.ImageSource.Image(ctx, id)
	img.Locations = r.rewrite(id, img.Locations)
	return img, err
}

// Each clone criterion failing on its own sends the disk down the fallback,
// with the reason; all passing clones with no image byte downloaded.
func TestClusterCloneCriteria(t *testing.T) {
	e := newClusterEnv(t)
	rbdSvc, fileSvc := e.rbdService(t), fileService(t)
	raw, _ := provtest.QemuImage(t, "raw", 4*mib)
	qcow, _ := provtest.QemuImage(t, "qcow2", 4*mib)
	inRBD, qcowInRBD, inFiles := rbdSvc.upload(t, "raw", raw), rbdSvc.upload(t, "qcow2", qcow), fileSvc.upload(t, "raw", raw)
	ctx := context.Background()
	// An image in the images pool with no snapshot, for the location below.
	if err := e.c.CreateImage(ctx, e.imagesPool, inFiles, 4*mib, ceph.ImageOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.c.Remove(context.Background(), e.imagesPool, inFiles, ceph.RemoveOptions{Retries: -1}) })

	otherFSID := func(_ string, locs []string) []string {
		return []string{strings.Replace(locs[0], e.c.FSID(), "00000000-0000-4000-8000-000000000000", 1)}
	}
	noSnapshot := func(id string, _ []string) []string {
		return []string{"rbd://" + e.c.FSID() + "/" + e.imagesPool + "/" + id + "/snap"}
	}
	tests := []struct {
		name    string
		src     provisioner.ImageSource
		image   string
		allow   []string
		method  provisioner.Method
		because string
	}{
		{"all pass", rbdSvc.source(), inRBD, nil, provisioner.MethodClone, ""},
		{"foreign fsid", relocated{rbdSvc.source(), otherFSID}, inRBD, nil, provisioner.MethodBaseClone, "is not this cluster"},
		{"qcow2", rbdSvc.source(), qcowInRBD, nil, provisioner.MethodBaseClone, `disk_format "qcow2" is not raw`},
		{"missing snapshot", relocated{fileSvc.source(), noSnapshot}, inFiles, nil, provisioner.MethodBaseClone, "does not exist"},
		{"outside allow-list", rbdSvc.source(), inRBD, []string{"elsewhere"}, provisioner.MethodBaseClone, "not in the allow-list"},
		{"bad url", fileSvc.source(), inFiles, nil, provisioner.MethodBaseClone, "not an rbd snapshot location"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := e.backend(t, tc.src, func(c *provisioner.RBDConfig) { c.Allow.Pools = tc.allow })
			d, err := b.Create(ctx, provisioner.Request{InstanceID: "crit", ImageID: tc.image})
			if err != nil {
				t.Fatal(err)
			}
			if d.Method != tc.method || (tc.because == "") != (len(d.Reasons) == 0) ||
				(tc.because != "" && !strings.Contains(strings.Join(d.Reasons, "|"), tc.because)) {
				t.Fatalf("method %s reasons %q, want %s because %q", d.Method, d.Reasons, tc.method, tc.because)
			}
			if downloaded := b.Stats().BytesDownloaded.Load(); (tc.method == provisioner.MethodClone) != (downloaded == 0) {
				t.Fatalf("%s downloaded %d bytes", d.Method, downloaded)
			}
		})
	}
}

// Through the agent: a raw image in the RBD store becomes a clone, the
// metrics prove no image byte was downloaded, a repeat is a 200.
func TestClusterCloneThroughAgent(t *testing.T) {
	e := newClusterEnv(t)
	svc := e.rbdService(t)
	raw, _ := provtest.QemuImage(t, "raw", 4*mib)
	id := svc.upload(t, "raw", raw)
	srv := httptest.NewServer(stopAtEnd(t, agent.New(e.backend(t, svc.source(), nil), nil)))
	defer srv.Close()
	post := func() (int, agent.Disk) {
		resp, err := http.Post(srv.URL+"/v1/disks", "application/json", strings.NewReader(`{"instance_id":"ag1","image_id":"`+id+`","size_bytes":8388608}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d agent.Disk
		if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, d
	}
	if code, d := post(); code != 201 || d.Method != "clone" || d.Parent != e.imagesPool+"/"+id+"@snap" || d.SizeBytes != 8*mib {
		t.Fatalf("%d %+v", code, d)
	}
	if code, _ := post(); code != 200 {
		t.Fatalf("repeat: %d, want 200", code)
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"\ncowdisk_image_downloaded_bytes_total 0\n", "\ncowdisk_disks_created_total{method=\"clone\"} 1\n"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q", strings.TrimSpace(want))
		}
	}
	if err := (&agent.Client{Base: srv.URL}).DeleteInstance(context.Background(), "ag1"); err != nil {
		t.Fatal(err)
	}
}
