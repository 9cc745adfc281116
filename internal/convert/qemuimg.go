package convert

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageformat"
)

// qemuFormats are the only -f values qemu-img is ever run with.
var qemuFormats = map[imageformat.Format]bool{
	imageformat.VMDK: true, imageformat.VHD: true, imageformat.VHDX: true, imageformat.VDI: true,
}

// qemuImgToRaw runs qemu-img convert into a temporary raw file, which is
// removed whatever happens, checks its size and copies it into dst thin.
func qemuImgToRaw(ctx context.Context, src *os.File, info imageformat.Info, dst io.WriterAt, o Options) (uint64, error) {
	tmp, err := os.CreateTemp(o.TempDir, "cowdisk-convert-*.raw")
	if err != nil {
		return 0, fmt.Errorf("convert %s: %w", src.Name(), err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if o.CPUSeconds <= 0 {
		o.CPUSeconds = DefaultCPUSeconds + int(info.VirtualSize>>30)*DefaultCPUSecondsPerGiB
	}
	wctx, stop, cause := watchAllocation(ctx, tmp.Name(), o.MaxAllocated)
	err = runQemuImg(wctx, src, tmp.Name(), info.Format, o)
	stop()
	if c := cause(); c != nil {
		return 0, fmt.Errorf("convert %s: %w", src.Name(), c)
	}
	if err != nil {
		return 0, err
	}
	fi, err := tmp.Stat()
	if err != nil {
		return 0, fmt.Errorf("convert %s: %w", src.Name(), err)
	}
	if uint64(fi.Size()) != info.VirtualSize {
		return 0, fmt.Errorf("convert %s: %w: qemu-img produced %d bytes, virtual size is %d",
			src.Name(), errs.ErrUnsafeImage, fi.Size(), info.VirtualSize)
	}
	return copySparse(ctx, tmp, fi.Size(), dst, o)
}

// runQemuImg converts src to raw at out with the detected format given
// explicitly (-f) and prlimit capping CPU seconds and address space. qemu-img
// reads the already inspected file through /dev/fd/3, not by its name, and
// gets absolute paths only, never a "json:" or "nbd:" pseudo-filename.
func runQemuImg(ctx context.Context, src *os.File, out string, f imageformat.Format, o Options) error {
	if !qemuFormats[f] {
		return fmt.Errorf("convert %s: %w: qemu-img is not used for %s", src.Name(), errs.ErrInvalid, f)
	}
	if err := o.binaries(); err != nil {
		return fmt.Errorf("convert %s: %w", src.Name(), err)
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("convert %s: %w", src.Name(), err)
	}
	args := []string{
		"--cpu=" + strconv.Itoa(o.CPUSeconds),
		"--as=" + strconv.FormatUint(o.AddressSpaceBytes, 10),
		"--", o.QemuImg, "convert", "-f", f.QemuName(), "-O", "raw", "/dev/fd/3", absOut,
	}
	cmd := exec.CommandContext(ctx, o.Prlimit, args...)
	cmd.ExtraFiles = []*os.File{src} // fd 3 in the child
	cmd.WaitDelay = 5 * time.Second  // prlimit execs qemu-img: a cancel kills qemu-img itself
	var stderr tailBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("convert %s: %w", src.Name(), ctx.Err())
		}
		// The input passed inspection, so qemu-img failing on it means its
		// data is corrupt or truncated: the image is refused (422).
		return fmt.Errorf("convert %s: %w: qemu-img convert -f %s: %w: %s", src.Name(), errs.ErrUnsafeImage, f.QemuName(), err, stderr.String())
	}
	return nil
}

// tailBuffer keeps the last 4 KiB written to it: enough for qemu-img's error
// message, bounded whatever a hostile image makes it print.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - 4096; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
