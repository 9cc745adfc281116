package ceph

import (
	"context"
	"time"

	"github.com/ceph/go-ceph/rbd"
)

// Created is when pool/name was created (rbd_get_create_timestamp). A rename
// keeps it, so a base published from a temporary image tells when its
// import began.
func (c *Cluster) Created(ctx context.Context, pool, name string) (time.Time, error) {
	var t time.Time
	err := c.withImage(ctx, pool, name, "", true, func(img *rbd.Image) error {
		ts, err := img.GetCreateTimestamp()
		if err != nil {
			return translate(err, "read creation time of", imageSpec(pool, name))
		}
		t = time.Unix(int64(ts.Sec), int64(ts.Nsec))
		return nil
	})
	return t, err
}
