package packaging

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServersRefuseBadConfiguration runs the binary as an operator with a
// typo would and reads what they read: the server exits at once with an
// error naming the culprit, instead of ignoring it or retrying forever.
func TestServersRefuseBadConfiguration(t *testing.T) {
	bin := binary(t)
	typoFile := filepath.Join(t.TempDir(), "node.toml")
	if err := os.WriteFile(typoFile, []byte("listen = \"127.0.0.1:1\"\nvm-pool = \"vms\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"typo in a node variable", []string{"COWDISK_NODE_LISTN=127.0.0.1:1"}, []string{"serve", "node"},
			[]string{"COWDISK_NODE_LISTN", "unknown variable"}},
		{"typo in an images variable", []string{"COWDISK_IMAGES_RBD_POL=x"}, []string{"serve", "images"},
			[]string{"COWDISK_IMAGES_RBD_POL"}},
		{"typo in the config file", nil, []string{"serve", "node", "--config", typoFile},
			[]string{typoFile, `"vm-pool"`, "unknown key"}},
		{"bad value from the environment", []string{"COWDISK_NODE_MAX_FETCHES=lots"}, []string{"serve", "node"},
			[]string{"COWDISK_NODE_MAX_FETCHES", "lots"}},
		{"unreadable ceph.conf", []string{"COWDISK_NODE_CEPH_CONF=/nonexistent/ceph.conf"}, []string{"serve", "node", "--listen", freeAddr(t)},
			[]string{"/nonexistent/ceph.conf", "--ceph-conf"}},
		{"images rbd store, unreadable ceph.conf", nil, []string{"serve", "images", "--store", "rbd",
			"--data-dir", t.TempDir(), "--listen", freeAddr(t), "--ceph-conf", "/nonexistent/ceph.conf"},
			[]string{"/nonexistent/ceph.conf"}},
	}
	if _, err := os.Stat("/etc/ceph/ceph.conf"); errors.Is(err, os.ErrNotExist) {
		cases = append(cases, struct {
			name string
			env  []string
			args []string
			want []string
		}{"no ceph.conf named: the default", nil, []string{"serve", "node", "--listen", freeAddr(t)},
			[]string{"/etc/ceph/ceph.conf", "CEPH_CONF"}})
	} else {
		t.Logf("/etc/ceph/ceph.conf exists here (%v): the default-path case is covered by the servecmd unit test only", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, tc.args...)
			cmd.Env = cleanEnv(tc.env...)
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("still running after a minute (retrying?); output:\n%s", out)
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("want a non-zero exit, got %v; output:\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output does not name %q:\n%s", w, out)
				}
			}
		})
	}
}
