// Package baseline runs the ways people get an image into RBD without
// cowdisk, so cowdisk can be measured against them in the same run:
//
//   - `rbd import` of a raw file that is already local;
//   - `qemu-img convert -O raw <file> rbd:pool/name:...` (qemu's own rbd driver);
//   - the naive pipeline Nova's rbd backend runs for an image it cannot clone:
//     download from the image service to a local file, `qemu-img convert -O raw`
//     to a second file when the image is not raw, then `rbd import`.
//
// The rbd CLI and qemu-img are used here, and only here, as yardsticks; no
// cowdisk code path shells out to them.
package baseline

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Ceph says how the CLI tools reach the cluster.
type Ceph struct {
	Conf    string
	Keyring string
	User    string // without "client.", e.g. "admin"
}

// Tools are the programs the baselines run. Tests swap RBD for a fake; the
// benchmark uses the real ones from PATH.
type Tools struct {
	RBD     string
	QemuImg string
	Ceph    Ceph
}

// DefaultTools uses rbd and qemu-img from PATH.
func DefaultTools(c Ceph) Tools { return Tools{RBD: "rbd", QemuImg: "qemu-img", Ceph: c} }

// Timing is one baseline run split into its phases; a phase that did not
// happen is zero. Total is measured around the whole run, not summed.
type Timing struct {
	Download time.Duration `json:"download"`
	Convert  time.Duration `json:"convert"`
	Import   time.Duration `json:"import"`
	Total    time.Duration `json:"total"`
}

// RBDImport runs `rbd import <raw> <pool>/<name>` (sparse by default).
func (t Tools) RBDImport(ctx context.Context, raw, pool, name string) (time.Duration, error) {
	start := time.Now()
	args := append(t.rbdArgs(), "import", "--no-progress", raw, pool+"/"+name)
	err := run(ctx, t.RBD, args...)
	return time.Since(start), err
}

func (t Tools) rbdArgs() []string {
	return []string{"--conf", t.Ceph.Conf, "--keyring", t.Ceph.Keyring, "--id", t.Ceph.User}
}

// QemuToRBD runs `qemu-img convert -f <format> -O raw <file> rbd:<pool>/<name>:conf=...`;
// qemu creates the RBD image itself.
func (t Tools) QemuToRBD(ctx context.Context, file, format, pool, name string) (time.Duration, error) {
	start := time.Now()
	err := t.qemuConvert(ctx, file, format, t.RBDTarget(pool, name))
	return time.Since(start), err
}

// RBDTarget is qemu's rbd: filename for pool/name with this cluster's config.
func (t Tools) RBDTarget(pool, name string) string {
	return fmt.Sprintf("rbd:%s/%s:conf=%s:id=%s:keyring=%s", pool, name,
		qemuEscape(t.Ceph.Conf), qemuEscape(t.Ceph.User), qemuEscape(t.Ceph.Keyring))
}

// qemuEscape protects the option separator of qemu's rbd: syntax.
func qemuEscape(s string) string { return strings.ReplaceAll(s, ":", `\:`) }

func (t Tools) qemuConvert(ctx context.Context, src, format, dst string) error {
	return run(ctx, t.QemuImg, "convert", "-f", format, "-O", "raw", src, dst)
}

func run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
