package provisioner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cowdisk/cowdisk/internal/convert"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageformat"
)

// ensureBase returns the raw base file for img, making it once.
func (l *Local) ensureBase(ctx context.Context, img Image) (string, error) {
	base := filepath.Join(l.cfg.Dir, "bases", img.ID+"@"+baseSnapName(img)+".raw")
	if _, err := os.Stat(base); err == nil {
		return base, nil
	}
	if l.cfg.NeverDownload {
		return "", fmt.Errorf("image %s has no local base and downloading is disabled: %w", img.ID, errs.ErrRefused)
	}
	if err := l.fetches.acquire(ctx); err != nil {
		return "", err
	}
	defer l.fetches.release()
	if ok, err := l.sparseBase(ctx, img, base); ok {
		if err != nil {
			return "", err
		}
		l.log.InfoContext(ctx, "base created", "base", base)
		return base, nil
	}
	dl, err := startDownload(ctx, l.images, img, l.cfg.Limits, &l.stats, l.cfg.Bounds)
	if err != nil {
		return "", err
	}
	defer dl.Close()
	err = dl.viaFile(l.stage.dir, img.ID+".src-*", func(src *os.File, info imageformat.Info) error {
		if isRawFormat(img.DiskFormat) {
			return os.Rename(src.Name(), base)
		}
		raw, err := l.toRaw(ctx, src, info, img.ID, dl.n)
		if err != nil {
			return err
		}
		if err := os.Rename(raw, base); err != nil {
			os.Remove(raw)
			return err
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	l.log.InfoContext(ctx, "base created", "base", base)
	return base, nil
}

// toRaw converts the checked source file into a new raw temporary file.
func (l *Local) toRaw(ctx context.Context, src *os.File, info imageformat.Info, id string, stored int64) (string, error) {
	l.stats.Conversions.Add(1)
	out, err := os.CreateTemp(l.stage.dir, id+".raw-*")
	if err != nil {
		return "", err
	}
	defer out.Close()
	// The base is a sparse file: only what the conversion writes is
	// allocated, and that is bounded as in the RBD backend.
	limit := l.cfg.Bounds.expansionLimit(stored)
	bw := &boundedWriterAt{w: out, limit: limit, what: "image " + id}
	written, err := convert.ToRaw(ctx, src.Name(), info, bw, convert.Options{Limits: l.cfg.Limits, MaxAllocated: limit})
	l.stats.BytesWritten.Add(int64(written))
	if err != nil {
		os.Remove(out.Name())
		return "", err
	}
	return out.Name(), out.Close()
}

// Bases lists the raw bases with the overlays that use them.
func (l *Local) Bases(ctx context.Context) ([]Base, error) {
	paths, err := filepath.Glob(filepath.Join(l.cfg.Dir, "bases", "*@*.raw"))
	if err != nil {
		return nil, err
	}
	disks, err := l.List(ctx, "")
	if err != nil {
		return nil, err
	}
	bases := []Base{}
	for _, p := range paths {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		id, _ := baseImageID(p)
		// The file is the base: no snapshot (its name carries the version).
		b := Base{ImageID: id, Pool: filepath.Dir(p), Image: filepath.Base(p), SizeBytes: uint64(st.Size()),
			Children: []string{}, Created: st.ModTime()}
		for _, d := range disks {
			if d.Parent == p {
				b.Children = append(b.Children, filepath.Join(d.Pool, d.Image))
			}
		}
		bases = append(bases, b)
	}
	return bases, nil
}

// Prune removes bases without overlays.
func (l *Local) Prune(ctx context.Context) ([]string, error) { return l.PruneWith(ctx, PruneOptions{}) }

// PruneWith removes (or with DryRun lists) the bases prunable picks.
func (l *Local) PruneWith(ctx context.Context, o PruneOptions) ([]string, error) {
	bases, err := l.Bases(ctx)
	if err != nil {
		return nil, err
	}
	removed := []string{}
	for _, b := range prunable(bases, o, time.Now()) {
		p := filepath.Join(b.Pool, b.Image)
		if o.DryRun {
			removed = append(removed, p)
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, err
		}
		removed = append(removed, p)
	}
	return removed, nil
}

type qemuImageInfo struct {
	VirtualSize uint64 `json:"virtual-size"`
	Backing     string `json:"full-backing-filename"`
}

// qemuInfo reads a local image's header with qemu-img (-U: a running VM
// holds the lock on its disk).
func qemuInfo(ctx context.Context, path string) (qemuImageInfo, error) {
	var out bytes.Buffer
	if err := qemuImg(ctx, &out, "info", "-U", "--output=json", "-f", "qcow2", path); err != nil {
		return qemuImageInfo{}, err
	}
	var info qemuImageInfo
	if err := json.Unmarshal(out.Bytes(), &info); err != nil {
		return qemuImageInfo{}, fmt.Errorf("qemu-img info %s: %w", path, err)
	}
	return info, nil
}

func qemuImg(ctx context.Context, stdout io.Writer, args ...string) error {
	bin, err := convert.QemuImg() // by absolute path, found once
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("qemu-img %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
