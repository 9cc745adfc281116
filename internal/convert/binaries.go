package convert

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// The helper binaries are looked up once, by the first conversion or by a
// server at start (which logs the paths), and run by absolute path from
// then on: a PATH changed later, or a directory in it that someone else
// can write, never decides which qemu-img reads a hostile image.
var (
	qemuImgPath = sync.OnceValues(func() (string, error) { return findBinary("qemu-img") })
	prlimitPath = sync.OnceValues(func() (string, error) { return findBinary("prlimit") })
)

// QemuImg returns the absolute path of qemu-img, found once.
func QemuImg() (string, error) { return qemuImgPath() }

// Prlimit returns the absolute path of prlimit, found once.
func Prlimit() (string, error) { return prlimitPath() }

func findBinary(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found in PATH (install qemu-utils / util-linux): %v: %w", name, err, errs.ErrUnavailable)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return abs, nil
}

// binaries fills o's binary paths: given ones must be absolute.
func (o *Options) binaries() error {
	for _, b := range []struct {
		path *string
		find func() (string, error)
	}{{&o.QemuImg, QemuImg}, {&o.Prlimit, Prlimit}} {
		if *b.path == "" {
			p, err := b.find()
			if err != nil {
				return err
			}
			*b.path = p
		}
		if !filepath.IsAbs(*b.path) {
			return fmt.Errorf("binary %q: an absolute path is required: %w", *b.path, errs.ErrInvalid)
		}
	}
	return nil
}
