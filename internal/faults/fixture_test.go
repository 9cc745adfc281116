//go:build faults

package faults

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// nodeName is the agent's --node: its temporaries carry ".tmp-faults-".
const nodeName = "faults"

// options shape one fixture.
type options struct {
	// tokens switches the image service to --auth tokens with this table;
	// agentToken is then the agent's X-Auth-Token.
	tokens     []tokenEntry
	agentToken string
	// imageService, when set, is the URL the agent fetches images from
	// instead of the fixture's own service (a hostile Glance).
	imageService string
	allowPools   []string
}

type tokenEntry struct {
	Token   string   `json:"token"`
	Project string   `json:"project"`
	Roles   []string `json:"roles"`
}

// fixture is one test's world: its own pools on the shared cluster, an
// image service with the RBD store in the images pool, a gate in front of
// it, and a node agent that reaches the images through the gate.
type fixture struct {
	t                   *testing.T
	c                   *ceph.Cluster
	imagesPool, vmsPool string
	dir                 string
	images, agent       *server
	gate                *gate
}

// newFixture makes pools "<prefix>-images" and "<prefix>-vms" and starts
// both servers.
func newFixture(t *testing.T, prefix string, o options) *fixture {
	t.Helper()
	f := &fixture{t: t, c: connect(t), dir: t.TempDir()}
	// Pools also removes what an earlier, interrupted run left there.
	f.imagesPool, f.vmsPool = testcluster.Pools(t, prefix)
	imgArgs := []string{"serve", "images", "--data-dir", filepath.Join(f.dir, "imagesvc"),
		"--store", "rbd", "--rbd-pool", f.imagesPool, "--show-locations"}
	if o.tokens != nil {
		b, _ := json.Marshal(map[string]any{"tokens": o.tokens})
		path := filepath.Join(f.dir, "tokens.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		imgArgs = append(imgArgs, "--auth", "tokens", "--tokens-file", path)
	}
	f.images = newServer(t, "images", f.dir, imgArgs...)
	f.images.start(t)
	f.gate = newGate(t, f.images.url())
	target := f.gate.url()
	if o.imageService != "" {
		target = o.imageService
	}
	agentArgs := []string{"serve", "node", "--image-service", target, "--images-pool", f.imagesPool,
		"--vms-pool", f.vmsPool, "--node", nodeName, "--temp-dir", filepath.Join(f.dir, "agent-tmp")}
	if o.agentToken != "" {
		agentArgs = append(agentArgs, "--token", o.agentToken)
	}
	for _, p := range o.allowPools {
		agentArgs = append(agentArgs, "--allow-pool", p)
	}
	if err := os.MkdirAll(filepath.Join(f.dir, "agent-tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.agent = newServer(t, "agent", f.dir, agentArgs...)
	f.agent.start(t)
	return f
}

// reply is one HTTP answer.
type reply struct {
	code    int
	body    []byte
	elapsed time.Duration
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.code, bytes.TrimSpace(r.body)) }

// call makes one request; body is JSON-encoded unless it is an io.Reader.
func call(t testing.TB, method, url, token string, body any, hdr ...string) reply {
	t.Helper()
	r, err := tryCall(method, url, token, body, hdr...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

// client has a generous timeout: every bound the tests assert is shorter,
// and a hang must end in a failure, not in the suite's timeout.
var client = &http.Client{Timeout: 3 * time.Minute}

func tryCall(method, url, token string, body any, hdr ...string) (reply, error) {
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd, ctype = b, "application/octet-stream"
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return reply{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{code: resp.StatusCode, body: b, elapsed: time.Since(start)}, err
}

// --- image service -------------------------------------------------------

// createImage makes a queued image as token's project and returns its id.
func (f *fixture) createImage(token string, fields map[string]any) string {
	f.t.Helper()
	r := call(f.t, "POST", f.images.url()+"/v2/images", token, fields)
	if r.code != http.StatusCreated {
		f.t.Fatalf("create image %v: %s", fields, r)
	}
	var img struct{ ID string }
	if err := json.Unmarshal(r.body, &img); err != nil {
		f.t.Fatal(err)
	}
	return img.ID
}

// upload puts data into an image and requires success.
func (f *fixture) upload(token, id string, data []byte) {
	f.t.Helper()
	if r := call(f.t, "PUT", f.images.url()+"/v2/images/"+id+"/file", token, bytes.NewReader(data)); r.code != http.StatusNoContent {
		f.t.Fatalf("upload %s: %s", id, r)
	}
}

// image makes and uploads an image; fields add to name/disk_format/container_format.
func (f *fixture) image(token, format string, data []byte, fields map[string]any) string {
	f.t.Helper()
	all := map[string]any{"name": "faults-" + format, "disk_format": format, "container_format": "bare"}
	for k, v := range fields {
		all[k] = v
	}
	id := f.createImage(token, all)
	f.upload(token, id, data)
	return id
}

// imageRecord reads an image as token sees it.
func (f *fixture) imageRecord(token, id string) (int, map[string]any) {
	f.t.Helper()
	r := call(f.t, "GET", f.images.url()+"/v2/images/"+id, token, nil)
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	return r.code, m
}

// --- node agent ----------------------------------------------------------

func (f *fixture) createDisk(instance, imageID string) reply {
	f.t.Helper()
	return call(f.t, "POST", f.agent.url()+"/v1/disks", "", agent.CreateRequest{InstanceID: instance, ImageID: imageID})
}

// mustDisk creates a disk and requires 201 (or 200 when it existed).
func (f *fixture) mustDisk(instance, imageID string) agent.Disk {
	f.t.Helper()
	r := f.createDisk(instance, imageID)
	if r.code != http.StatusCreated && r.code != http.StatusOK {
		f.t.Fatalf("create disk of %s from %s: %s", instance, imageID, r)
	}
	return decodeDisk(f.t, r)
}

func decodeDisk(t testing.TB, r reply) agent.Disk {
	t.Helper()
	var d agent.Disk
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatalf("disk answer %s: %v", r, err)
	}
	return d
}

func (f *fixture) deleteInstance(instance string) {
	f.t.Helper()
	if r := call(f.t, "DELETE", f.agent.url()+"/v1/instances/"+instance+"/disks", "", nil); r.code != http.StatusNoContent {
		f.t.Fatalf("delete instance %s: %s", instance, r)
	}
}

// disks lists an instance's disks through the agent.
func (f *fixture) disks(instance string) []agent.Disk {
	f.t.Helper()
	r := call(f.t, "GET", f.agent.url()+"/v1/disks?instance_id="+instance, "", nil)
	if r.code != http.StatusOK {
		f.t.Fatalf("list disks of %s: %s", instance, r)
	}
	var ds []agent.Disk
	if err := json.Unmarshal(r.body, &ds); err != nil {
		f.t.Fatal(err)
	}
	return ds
}

// prune removes unused bases through the agent.
func (f *fixture) prune() {
	f.t.Helper()
	if r := call(f.t, "POST", f.agent.url()+"/v1/cache/prune", "", nil); r.code != http.StatusOK {
		f.t.Fatalf("prune: %s", r)
	}
}

// assertVMsEmpty: after the test's disks are deleted and the cache pruned,
// the vms pool holds nothing at all, trash included.
func (f *fixture) assertVMsEmpty() {
	f.t.Helper()
	assertPool(f.t, f.c, f.vmsPool, nil)
}

// assertImagesPool: the images pool holds exactly these image ids, each
// with the store's snapshot "snap".
func (f *fixture) assertImagesPool(ids ...string) {
	f.t.Helper()
	want := map[string][]string{}
	for _, id := range ids {
		want[id] = []string{"snap"}
	}
	assertPool(f.t, f.c, f.imagesPool, want)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func stringReader(s string) io.Reader { return strings.NewReader(s) }

func instanceID() string { return uuid.NewString() }

// --- image data ----------------------------------------------------------

// rawImage is deterministic data with holes: runs of pseudo-random bytes
// and zero runs, so thin writes (skipped zero chunks) are exercised.
func rawImage(size int, seed uint64) []byte {
	b := make([]byte, size)
	x := seed*0x9E3779B97F4A7C15 + 1
	for off := 0; off < size; off += 1 << 20 {
		if (off>>20)%3 == 2 {
			continue // every third MiB stays zero
		}
		end := min(off+1<<20, size)
		for i := off; i < end; i += 8 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			for j := 0; j < 8 && i+j < end; j++ {
				b[i+j] = byte(x >> (8 * j))
			}
		}
	}
	return b
}

// qcow2Image converts raw to qcow2 with qemu-img, as an operator would.
func qcow2Image(t testing.TB, raw []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.raw"), filepath.Join(dir, "out.qcow2")
	if err := os.WriteFile(in, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "qcow2", in, out).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img convert: %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// diskName is the RBD name of an instance's root disk.
func diskName(instance string) string { return instance + "_disk" }

func baseName(imageID string) string { return "base_" + imageID }

func hasPrefixAny(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
