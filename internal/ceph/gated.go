package ceph

import (
	"syscall"

	"github.com/ceph/go-ceph/rados"
	"github.com/ceph/go-ceph/rbd"
)

// The librbd calls that open, close or remove an image, under the gate
// (openlock.go); opens are openImage (image.go).

// absent tells, without librbd, that no image name exists in io: neither
// its format-2 id object nor a format-1 header, the two objects librbd's
// open looks for. An image not known safe is opened under openMu, and the
// common such open is of a disk that does not exist yet (the repeat check
// of every create): with these two stats it neither waits for the lock
// nor holds it. Any other answer leaves the decision to the open.
func absent(io *rados.IOContext, name string) bool {
	for _, oid := range []string{"rbd_id." + name, name + ".rbd"} {
		if _, err := io.Stat(oid); !errno(err, syscall.ENOENT) {
			return false
		}
	}
	return true
}

// removeImage is rbd_remove under the gate: librbd opens and closes the
// image (and a clone's parent) inside it, so it is gated like the opens
// it makes.
func removeImage(io *rados.IOContext, pool, name string) error {
	key := imageKey(pool, name)
	release := gate.enter(key)
	err := rbd.RemoveImage(io, name)
	release()
	gate.forget(key)
	return err
}

// closeImage closes img under the gate (see openMu: closes of
// exclusive-lock images crashed alongside the opens).
func closeImage(key string, img *rbd.Image) error {
	release := gate.enter(key)
	defer release()
	return img.Close()
}
