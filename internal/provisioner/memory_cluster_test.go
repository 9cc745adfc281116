package provisioner_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cowdisk/cowdisk/internal/bench/imagegen"
	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/provisioner/provtest"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// The child process of TestFallbackMemoryBounded reads these.
const (
	memChildURL   = "COWDISK_MEMTEST_URL"
	memChildImage = "COWDISK_MEMTEST_IMAGE"
	memChildMax   = "COWDISK_MEMTEST_MAX" // bytes, as --max-memory
	// memChildStream, when set, hides the service's chunk lists.
	memChildStream = "COWDISK_MEMTEST_STREAM"
	// memChildLocal, when set, makes the disk with the local backend.
	memChildLocal = "COWDISK_MEMTEST_LOCAL"
	// memChildPeak prefixes the child's VmHWM in MiB on its output.
	memChildPeak = "COWDISK_MEMTEST_PEAK_MIB"
	// memTestMiB sizes the image (default 256); a one-off run at 1-4 GiB
	// shows the peak does not grow with it.
	memTestMiB = "COWDISK_MEMTEST_MIB"
)

// TestFallbackMemoryBounded: a node making the first disk of an image it
// must download (raw and qcow2, 40% data, by the sparse transfer and by the
// whole stream; a vmdk, which qemu-img converts; raw and qcow2 into the
// local backend) stays under the memory bound an agent without
// --max-memory documents, and under a tighter --max-memory it was given.
// The node runs in a child process (this test binary again, configured as
// `serve node` configures itself), so its peak resident set (its own
// VmHWM) is not the image service's or the test's.
func TestFallbackMemoryBounded(t *testing.T) {
	if os.Getenv(memChildURL) != "" {
		max, err := strconv.ParseUint(os.Getenv(memChildMax), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		memChild(t, os.Getenv(memChildURL), os.Getenv(memChildImage), max)
		return
	}
	mib := int64(256)
	if v := os.Getenv(memTestMiB); v != "" {
		var err error
		if mib, err = strconv.ParseInt(v, 10, 64); err != nil || mib <= 0 {
			t.Fatalf("%s=%q: want a positive number of MiB", memTestMiB, v)
		}
	}
	files, err := imagegen.Ensure(context.Background(), t.TempDir(), imagegen.Spec{Size: mib << 20, DataFraction: 0.4, Seed: 15})
	if err != nil {
		t.Fatal(err)
	}
	// A format only qemu-img converts: the whole stream to a staging file,
	// then qemu-img in its own (limited) process; the agent's bound holds.
	vmdk := filepath.Join(t.TempDir(), "img.vmdk")
	provtest.Run(t, "qemu-img", "convert", "-q", "-f", "raw", "-O", "vmdk", files.Raw, vmdk)
	svc := fileService(t)
	ids := map[string]string{"raw": svc.uploadFile(t, "raw", files.Raw), "qcow2": svc.uploadFile(t, "qcow2", files.QCOW2),
		"vmdk": svc.uploadFile(t, "vmdk", vmdk)}
	for _, bound := range []uint64{provisioner.DefaultMaxMemory(provisioner.DefaultMaxFetches, 4<<20), 120 << 20} {
		for _, path := range []string{"raw", "qcow2", "raw stream", "qcow2 stream", "vmdk stream", "local raw", "local qcow2"} {
			rest, local := strings.CutPrefix(path, "local ")
			format, stream, _ := strings.Cut(rest, " ")
			cmd := exec.Command(os.Args[0], "-test.run=^TestFallbackMemoryBounded$", "-test.count=1")
			cmd.Env = append(os.Environ(), memChildURL+"="+svc.srv.URL, memChildImage+"="+ids[format],
				memChildMax+"="+strconv.FormatUint(bound, 10), memChildStream+"="+stream)
			if local {
				cmd.Env = append(cmd.Env, memChildLocal+"=1")
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: node process failed: %v\n%s", path, err, out)
			}
			// The child reports its own VmHWM: wait4's maxrss would count the
			// parent's RSS too, which exec records as the child's high-water
			// mark when the two share memory until exec (vfork).
			m := regexp.MustCompile(`(?m)^` + memChildPeak + `=([0-9.]+)$`).FindSubmatch(out)
			if m == nil {
				t.Fatalf("%s: the node process reported no peak RSS:\n%s", path, out)
			}
			mibs, _ := strconv.ParseFloat(string(m[1]), 64)
			peak := uint64(mibs * (1 << 20))
			t.Logf("%s %d MiB: node peak RSS %d MiB (bound %d MiB)", path, mib, peak>>20, bound>>20)
			if peak >= bound {
				t.Errorf("%s %d MiB: node peak RSS %d MiB, over its bound of %d MiB", path, mib, peak>>20, bound>>20)
			}
		}
	}
}

// memChild is the node: the agent's connection settings and its memory plan
// for max bytes, one cold create, cleanup.
func memChild(t *testing.T, url, id string, max uint64) {
	defer func() { fmt.Printf("%s=%.1f\n", memChildPeak, peakRSSMiB(t)) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cfg := testcluster.Config(t)
	cfg.NoImageCache = true
	c, err := ceph.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	images, vms := testcluster.Pools(t, "prov")
	// The image service is another process: its keep-alive connections
	// would outlive the test and fail the child's leak check.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	client, err := imageclient.New(url, "", imageclient.Options{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := provisioner.PlanMemory(max, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	debug.SetMemoryLimit(plan.GoLimit)
	rc := provisioner.RBDConfig{ImagesPool: images, VMsPool: vms, Node: "mem", TempDir: t.TempDir()}
	rc.ApplyPlan(plan)
	var src provisioner.ImageSource = provisioner.ClientSource{Client: client}
	if os.Getenv(memChildStream) != "" {
		src = struct{ provisioner.ImageSource }{src} // no chunk lists: the whole-stream download
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var b provisioner.Backend
	dir := t.TempDir() // the local backend's
	if os.Getenv(memChildLocal) != "" {
		b, err = provisioner.NewLocal(src, provisioner.LocalConfig{Dir: dir}, log)
	} else {
		b, err = provisioner.NewRBD(provisioner.Ceph(c), src, rc, log)
	}
	if err != nil {
		t.Fatal(err)
	}
	inst := uuid.NewString()
	d, err := b.Create(ctx, provisioner.Request{InstanceID: inst, ImageID: id})
	defer func() {
		_ = b.DeleteInstance(context.WithoutCancel(ctx), inst)
		_, _ = b.Prune(context.WithoutCancel(ctx))
		testcluster.AssertPoolClean(t, c, vms)
		disks, _ := filepath.Glob(filepath.Join(dir, "disks", "*"))
		bases, _ := filepath.Glob(filepath.Join(dir, "bases", "*"))
		if left := append(disks, bases...); len(left) > 0 {
			t.Errorf("left behind in the local backend: %v", left)
		}
	}()
	if err != nil {
		t.Fatal(err)
	}
	if d.Method != provisioner.MethodBaseClone {
		t.Fatalf("disk made by %s, want a cold %s", d.Method, provisioner.MethodBaseClone)
	}
}
