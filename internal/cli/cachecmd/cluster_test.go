package cachecmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/cli/cachecmd"
	"github.com/cowdisk/cowdisk/internal/cli/diskcmd"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/imagesvctest"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// env is a real node agent on the dev cluster, fed by an in-process image
// service, and the CLI commands pointed at it.
type env struct {
	t        *testing.T
	c        *ceph.Cluster
	vms      string
	agentURL string
	ic       imageclient.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	c := testcluster.Connect(t)
	images, vms := testcluster.Pools(t, "clifr")
	imageURL := imagesvctest.Serve(t, auth.None{Project: "p"})
	ic, err := imageclient.New(imageURL, "", imageclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	rb, err := provisioner.NewRBD(provisioner.Ceph(c), provisioner.ClientSource{Client: ic},
		provisioner.RBDConfig{ImagesPool: images, VMsPool: vms, Node: "clifr"}, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(agent.New(rb, log))
	t.Cleanup(srv.Close)
	return &env{t: t, c: c, vms: vms, agentURL: srv.URL, ic: ic}
}

// qcow2 uploads a small qcow2 image (one MiB of data in 8 MiB) and returns its id.
func (e *env) qcow2() string {
	e.t.Helper()
	dir := e.t.TempDir()
	raw, q := filepath.Join(dir, "d.raw"), filepath.Join(dir, "d.qcow2")
	data := make([]byte, 8<<20)
	copy(data, bytes.Repeat([]byte("cowdisk!"), 1<<17))
	os.WriteFile(raw, data, 0o600)
	if out, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, q).CombinedOutput(); err != nil {
		e.t.Fatalf("qemu-img (qemu-utils) is needed: %v %s", err, out)
	}
	ctx := context.Background()
	img, err := e.ic.Create(ctx, imageclient.CreateOptions{Name: "q", DiskFormat: "qcow2", ContainerFormat: "bare"})
	if err != nil {
		e.t.Fatal(err)
	}
	f, _ := os.Open(q)
	defer f.Close()
	st, _ := f.Stat()
	if err := e.ic.Upload(ctx, img.ID, f, st.Size()); err != nil {
		e.t.Fatal(err)
	}
	return img.ID
}

// run runs `cowdisk GROUP ARGS... --agent URL` in-process and returns what a
// person sees.
func (e *env) run(group func() *cobra.Command, args ...string) (stdout, stderr string, err error) {
	c := group()
	var out, errb bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&errb)
	c.SetArgs(append(args, "--agent", e.agentURL))
	err = c.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func (e *env) must(group func() *cobra.Command, args ...string) string {
	e.t.Helper()
	out, stderr, err := e.run(group, args...)
	if err != nil {
		e.t.Fatalf("%v: %v\n%s", args, err, stderr)
	}
	return out
}

const inst1, inst2 = "6f1e0c9a-0b7d-4c35-9a53-5d2f4c1e8a10", "7a2f1d0b-1c8e-4d46-8b64-6e3f5d2f9b21"

func TestDisksAndCacheOnCluster(t *testing.T) {
	e := newEnv(t)
	img := e.qcow2()
	ac := &agent.Client{Base: e.agentURL}
	before, err := ac.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var d agent.Disk
	if err := json.Unmarshal([]byte(e.must(diskcmd.Command, "create", "--instance", inst1, "--image", img, "--json")), &d); err != nil ||
		d.Method != "base-clone" {
		t.Fatalf("create: %v %+v", err, d)
	}
	// The progress display's totals: the download reached the declared
	// size, the conversion the virtual size.
	after, err := ac.Stats(context.Background())
	if got, want := after.BytesDownloaded-before.BytesDownloaded, after.BytesToDownload-before.BytesToDownload; err != nil || want <= 0 || got != want {
		t.Fatalf("downloaded %d of %d: %v", got, want, err)
	}
	if got, want := after.BytesConverted-before.BytesConverted, after.BytesToConvert-before.BytesToConvert; got != 8<<20 || want != 8<<20 {
		t.Fatalf("converted %d of %d, want 8 MiB of 8 MiB", got, want)
	}
	e.must(diskcmd.Command, "create", "--instance", inst2, "--image", img)

	// cache ls: the base by its snapshot, with an age and its two disks.
	out := e.must(cachecmd.Command, "ls")
	if !strings.Contains(out, "base_"+img+"@") || !strings.Contains(out, "2 "+e.vms+"/") || strings.Contains(out, "\t-\t") {
		t.Fatalf("cache ls:\n%s", out)
	}
	var bases []agent.Base
	if err := json.Unmarshal([]byte(e.must(cachecmd.Command, "ls", "--json")), &bases); err != nil ||
		len(bases) != 1 || bases[0].CreatedAt == "" || bases[0].SizeBytes != 8<<20 {
		t.Fatalf("cache ls --json: %v %+v", err, bases)
	}

	// Flatten keeps the origin: ls and tree still show the image.
	e.must(diskcmd.Command, "flatten", inst1)
	if out := e.must(diskcmd.Command, "ls", "--instance", inst1); !strings.Contains(out, img) || !strings.Contains(out, "base-clone") {
		t.Fatalf("ls after flatten:\n%s", out)
	}
	if tree := e.must(diskcmd.Command, "tree"); strings.Contains(tree, "image -") || !strings.Contains(tree, "(no parent") {
		t.Fatalf("tree after flatten:\n%s", tree)
	}
	// Re-creating the flattened disk from the same image is idempotent.
	if _, stderr, err := e.run(diskcmd.Command, "create", "--instance", inst1, "--image", img); err != nil ||
		!strings.Contains(stderr, "already existed") {
		t.Fatalf("re-create after flatten: %v %s", err, stderr)
	}

	// xml --json is JSON.
	var x struct{ XML string }
	if err := json.Unmarshal([]byte(e.must(diskcmd.Command, "xml", inst1, "--json")), &x); err != nil || !strings.HasPrefix(x.XML, "<disk") {
		t.Fatalf("xml --json: %v %q", err, x.XML)
	}

	// rm says what it removed, in text and JSON; a second rm says nothing was there.
	if out := e.must(diskcmd.Command, "rm", inst1); out != "removed "+e.vms+"/"+inst1+"_disk (instance "+inst1+", disk disk)\n" {
		t.Fatalf("rm: %q", out)
	}
	if out := e.must(diskcmd.Command, "rm", inst1); !strings.Contains(out, "nothing to remove") {
		t.Fatalf("rm again: %q", out)
	}
	var rm diskcmd.Removed
	if err := json.Unmarshal([]byte(e.must(diskcmd.Command, "rm", inst2, "--all", "--json")), &rm); err != nil ||
		len(rm.Removed) != 1 || rm.Removed[0].InstanceID != inst2 {
		t.Fatalf("rm --json: %v %+v", err, rm)
	}

	// prune: the base is too young for --older-than and a dry run keeps it.
	if out := e.must(cachecmd.Command, "prune", "--older-than", "1h"); !strings.HasPrefix(out, "removed 0 base(s)") {
		t.Fatalf("prune --older-than 1h:\n%s", out)
	}
	if out := e.must(cachecmd.Command, "prune", "--dry-run"); !strings.HasPrefix(out, "would remove (dry run) 1 base(s)") ||
		!strings.Contains(out, "base_"+img) {
		t.Fatalf("prune --dry-run:\n%s", out)
	}
	testcluster.AssertPoolClean(t, e.c, e.vms, "base_"+img)
	if out := e.must(cachecmd.Command, "prune"); !strings.HasPrefix(out, "removed 1 base(s)") {
		t.Fatalf("prune:\n%s", out)
	}
	testcluster.AssertPoolClean(t, e.c, e.vms)

	// A missing image is named once, not "image X: get image X: ... (image X: not found)".
	const missing = "0c0ffee0-0000-4000-8000-000000000000"
	_, _, err = e.run(diskcmd.Command, "create", "--instance", inst1, "--image", missing)
	if !errors.Is(err, errs.ErrNotFound) || strings.Count(err.Error(), missing) != 1 {
		t.Fatalf("create from a missing image: %v", err)
	}
	if testing.Verbose() {
		t.Logf("missing image: %v", err)
	}
	testcluster.AssertPoolClean(t, e.c, e.vms)
	for _, args := range [][]string{{"show", inst1}, {"resize", inst1, "--size", "1G"}, {"flatten", inst1}, {"xml", inst1}} {
		_, _, err := e.run(diskcmd.Command, args...)
		if !errors.Is(err, errs.ErrNotFound) || strings.Count(err.Error(), inst1) != 1 {
			t.Errorf("%v on a missing disk: %v", args, err)
		}
	}

	// A refused option is the agent's 400, as JSON with --json.
	_, stderr, err := e.run(cachecmd.Command, "prune", "--older-than", "-1h", "--json")
	if err == nil || !strings.Contains(stderr, `"code":"invalid"`) {
		t.Fatalf("prune --older-than -1h: %v %s", err, stderr)
	}
	// ... and so is one the CLI cannot check: the agent's own bound.
	_, stderr, err = e.run(cachecmd.Command, "prune", "--older-than", "100000h", "--json")
	if err == nil || !strings.Contains(stderr, `"code":"invalid"`) {
		t.Fatalf("prune --older-than -1h: %v %s", err, stderr)
	}
}
