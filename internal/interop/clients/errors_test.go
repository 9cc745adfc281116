//go:build interop

package clients

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

// Errors as the clients show them: glanceclient once printed every cowdisk
// error as "'str' object has no attribute 'get'". Each case checks the
// client exits non-zero with a message naming the cause, and that the
// service kept nothing.

// clientFails runs argv with env; t fails unless the command exits
// non-zero with output that holds every want and no Python traceback.
func (s *service) clientFails(t *testing.T, env []string, want []string, argv ...string) {
	t.Helper()
	out, err := s.exec(t, env, argv...)
	var ce *cmdError
	if !errors.As(err, &ce) {
		t.Fatalf("%s: succeeded, want an error\n%s", strings.Join(argv, " "), out)
	}
	msg := ce.stderr + ce.stdout
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: output lacks %q:\n%s", strings.Join(argv, " "), w, msg)
		}
	}
	if strings.Contains(msg, "object has no attribute") || strings.Contains(msg, "Traceback") {
		t.Errorf("%s: the client could not read the error:\n%s", strings.Join(argv, " "), msg)
	}
}

func glanceShowUnknown(t *testing.T, s *service) {
	id := "8a0bd0b4-7d2c-4f1e-9a55-000000000404"
	s.clientFails(t, s.people["owner"].glanceEnv, []string{"404", id}, "/usr/bin/glance", "image-show", id)
}

func osShowUnknown(t *testing.T, s *service) {
	name := uniq(t) + "-missing"
	s.clientFails(t, s.people["owner"].osEnv, []string{name}, "/usr/bin/openstack", "image", "show", name)
}

// glanceUploadFormatLie uploads a real qcow2 (made by qemu-img) into an
// image declared raw: refused with 400 naming the format, the image stays
// queued and the store holds nothing.
func glanceUploadFormatLie(t *testing.T, s *service) {
	path := filepath.Join(t.TempDir(), "lie.qcow2")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "qemu-img", "create", "-f", "qcow2", path, "16M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img create (apt-get install qemu-utils): %v: %s", err, out)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	id := s.newImage(t, "owner", map[string]any{"name": uniq(t), "disk_format": "raw"})
	s.clientFails(t, s.people["owner"].glanceEnv, []string{"400", "qcow2"},
		"/usr/bin/glance", "image-upload", "--file", path, id)
	if st := str(s.image(t, id), "status"); st != "queued" {
		t.Errorf("after a refused upload: status %q, want queued", st)
	}
	s.assertStored(t, id, false)
}
