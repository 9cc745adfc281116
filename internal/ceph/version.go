package ceph

import (
	"fmt"

	"github.com/ceph/go-ceph/rados"
	"github.com/ceph/go-ceph/rbd"
)

// LibVersions reports the librados and librbd versions this binary runs
// against (the shared libraries loaded now, not the headers it was built
// with), for `cowdisk version` and bug reports.
func LibVersions() (librados, librbd string) {
	a, b, c := rados.Version()
	x, y, z := rbd.Version()
	return fmt.Sprintf("%d.%d.%d", a, b, c), fmt.Sprintf("%d.%d.%d", x, y, z)
}
