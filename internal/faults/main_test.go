//go:build faults

package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/devcluster"
)

// Timeouts the node agent runs with: the tests start it without the
// --ceph-*-timeout flags, so they are internal/ceph's defaults (mount 10 s,
// mon op 10 s, OSD op 30 s); the fault tests bound the agent's answers by them.
const (
	agentMonTimeout = 10 * time.Second
	agentOSDTimeout = 30 * time.Second
	// slack is what "within the timeout" allows on top: HTTP, the image
	// service round trip and a loaded 2-core CI machine.
	slack = 8 * time.Second
	// cleanupWait is how long the agent waits for the cleanup after a
	// failure Ceph did not cause.
	cleanupWait = ceph.DiscardWait
)

// suite is what TestMain finds: the cluster and the binary under test.
var suite struct {
	bin     string
	cluster *devcluster.Cluster
	ceph    ceph.Config
}

func TestMain(m *testing.M) {
	if err := setup(); err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

func setup() error {
	dir := os.Getenv("COWDISK_FAULTS_CLUSTER")
	if dir == "" {
		return fmt.Errorf("COWDISK_FAULTS_CLUSTER is unset: run scripts/test-faults.sh (make test-faults), " +
			"which boots a bluestore dev cluster for these tests")
	}
	dc, err := devcluster.Load(dir)
	if err != nil {
		return err
	}
	if dc.ObjectStore != "bluestore" {
		return fmt.Errorf("dev cluster %s runs %s; a killed OSD must keep its data: use --objectstore bluestore", dir, dc.ObjectStore)
	}
	bin := os.Getenv("COWDISK_FAULTS_BIN")
	if bin == "" {
		bin = "../../bin/cowdisk"
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("the binary under test: %w (run make build)", err)
	}
	if _, err := exec.LookPath("qemu-img"); err != nil {
		return fmt.Errorf("qemu-img makes the qcow2 test image: %w", err)
	}
	suite.bin, suite.cluster = bin, dc
	// Explicit, not from the environment: the servers get exactly this.
	suite.ceph = ceph.Config{ConfPath: dc.ConfPath, User: "admin", Keyring: dc.KeyringPath,
		// The tests' own calls fail fast while a daemon is down, and
		// are retried by the waits below.
		MountTimeout: 10 * time.Second, MonOpTimeout: 10 * time.Second, OSDOpTimeout: 10 * time.Second}
	return nil
}

// serverEnv points a child server at the cluster.
func serverEnv() []string {
	return []string{"CEPH_CONF=" + suite.ceph.ConfPath, "CEPH_KEYRING=" + suite.ceph.Keyring, "CEPH_USER=admin"}
}

// connect gives the test its own view of the cluster, to check pools.
func connect(t testing.TB) *ceph.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := ceph.Connect(ctx, suite.ceph)
	if err != nil {
		t.Fatalf("connect to the dev cluster: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
