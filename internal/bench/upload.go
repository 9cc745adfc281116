package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	rp "github.com/cowdisk/cowdisk/internal/bench/report"
)

// uploadOnce times one upload of the local raw file through the Glance API
// into the image service's RBD store (create, PUT the data: hashed md5 and
// sha512, inspected, written thin, snapshotted; then the record read back),
// the path issue 15 compares with `rbd import` of the same file. The image
// is deleted afterwards, untimed.
func (e *env) uploadOnce(ctx context.Context, file string, size int64) (float64, string, error) {
	name := fmt.Sprintf("bench-upload-%s-%s", rp.HumanSize(size), uuid.NewString()[:8])
	var sec float64
	var id string
	err := e.metered(func() error {
		t0 := time.Now()
		img, err := e.images.Upload(ctx, name, "raw", file)
		sec, id = time.Since(t0).Seconds(), img.ID
		return err
	})
	if id != "" {
		if derr := e.images.Delete(context.WithoutCancel(ctx), id); err == nil {
			err = derr
		}
	}
	return sec, "", err
}
