package provisioner

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageformat"
)

// download is an image body being read once: every byte that passes is
// counted, hashed and shown to the format inspector, so the verdict on size,
// hash and format is ready the moment the stream ends, without a second read.
type download struct {
	img    Image
	body   io.ReadCloser
	r      io.Reader // body, cut one byte past the declared size
	n      int64
	sum    *asyncHash // nil when the image declares no hash
	want   string
	insp   *imageformat.Inspector
	stats  *Stats
	closed bool
	// ctx ends the transfer: its cause says which bound ended it.
	ctx   context.Context
	stop  func()
	stall *watchdog
	// verified is when the whole stream had been read and checked.
	verified time.Time
}

func startDownload(ctx context.Context, src ImageSource, img Image, limits imageformat.Limits, stats *Stats, bounds Bounds) (*download, error) {
	sum, want, err := imageHash(img)
	if err != nil {
		return nil, err
	}
	ctx, stall, stop := transferContext(ctx, img.ID, bounds)
	body, err := src.Download(ctx, img.ID)
	if err != nil {
		stop()
		return nil, imageServiceErr(fmt.Errorf("download image %s: %w", img.ID, boundErr(ctx, err)))
	}
	stats.Downloads.Add(1)
	stats.BytesToDownload.Add(img.Size)
	d := &download{img: img, body: body, r: body, want: want, insp: imageformat.NewInspector(limits), stats: stats,
		ctx: ctx, stop: stop, stall: stall}
	if sum != nil {
		d.sum = newAsyncHash(sum)
	}
	if img.Size > 0 {
		// A service that sends more than it declared is cut off: one byte
		// over is enough to fail the size check.
		d.r = io.LimitReader(body, img.Size+1)
	}
	return d, nil
}

// imageHash picks os_hash_value (multihash) over the legacy md5 checksum.
func imageHash(img Image) (hash.Hash, string, error) {
	if img.HashValue != "" {
		var h hash.Hash
		switch strings.ToLower(img.HashAlgo) {
		case "sha512":
			h = sha512.New()
		case "sha384":
			h = sha512.New384()
		case "sha256":
			h = sha256.New()
		case "md5":
			h = md5.New()
		default:
			return nil, "", fmt.Errorf("image %s: unsupported os_hash_algo %q: %w", img.ID, img.HashAlgo, errs.ErrInvalid)
		}
		return h, strings.ToLower(img.HashValue), nil
	}
	if img.Checksum != "" {
		return md5.New(), strings.ToLower(img.Checksum), nil
	}
	return nil, "", nil
}

func (d *download) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if n > 0 {
		d.stall.reset()
		d.n += int64(n)
		d.stats.BytesDownloaded.Add(int64(n))
		if d.sum != nil {
			d.sum.Write(p[:n])
		}
		// The inspector keeps its own verdict; its write never fails the copy.
		_, _ = d.insp.Write(p[:n])
	}
	if err != nil && err != io.EOF {
		err = imageServiceErr(fmt.Errorf("download image %s at byte %d: %w", d.img.ID, d.n, boundErr(d.ctx, err)))
	}
	return n, err
}

// finish reads what is left, closes the body and returns the inspected
// format once size, hash and format all match what the image declares.
func (d *download) finish() (imageformat.Info, error) {
	if _, err := io.Copy(io.Discard, d); err != nil {
		d.Close()
		return imageformat.Info{}, err
	}
	d.Close()
	if d.img.Size > 0 && d.n != d.img.Size {
		return imageformat.Info{}, fmt.Errorf("image %s: got %d bytes, declared %d: %w", d.img.ID, d.n, d.img.Size, errs.ErrChecksum)
	}
	if d.sum != nil {
		if got := d.sum.Sum(); got != d.want {
			return imageformat.Info{}, fmt.Errorf("image %s: hash %s, declared %s: %w", d.img.ID, got, d.want, errs.ErrChecksum)
		}
	}
	info, err := d.insp.Result()
	if err != nil {
		return imageformat.Info{}, fmt.Errorf("image %s: %w", d.img.ID, err)
	}
	if err := imageformat.Check(info, d.img.DiskFormat); err != nil {
		return imageformat.Info{}, fmt.Errorf("image %s: %w", d.img.ID, err)
	}
	d.verified = time.Now()
	return info, nil
}

// Close releases the body; safe to call twice.
func (d *download) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	defer d.stop()
	if d.sum != nil {
		d.sum.stop()
	}
	return d.body.Close()
}

// viaFile lands the whole download in a new temporary file in dir (pattern
// as for os.CreateTemp), verifies it and hands it to use. The file is
// removed afterwards whatever happens, unless use renamed it away.
func (d *download) viaFile(dir, pattern string, use func(*os.File, imageformat.Info) error) error {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := io.Copy(f, d); err != nil {
		return err
	}
	info, err := d.finish()
	if err != nil {
		return err
	}
	return use(f, info)
}
