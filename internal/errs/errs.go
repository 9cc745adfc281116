// Package errs defines every sentinel error of cowdisk exactly once.
//
// Packages wrap these with fmt.Errorf("...: %w", errs.ErrX) and callers test
// them with errors.Is. Transport codes (HTTP status) are chosen only at the
// edges (the image service API and the node agent), from these sentinels, so
// the storage and provisioning code never knows about HTTP.
package errs

import "errors"

var (
	// ErrNotFound: the named object (image, snapshot, pool, disk) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: creating would overwrite an existing object.
	ErrExists = errors.New("already exists")
	// ErrBusy: the object is in use (watchers, open handles) right now; a retry may succeed.
	ErrBusy = errors.New("busy")
	// ErrInUse: the object has dependants (clones, children) and cannot be removed.
	ErrInUse = errors.New("in use")
	// ErrPermission: the caller or the Ceph user lacks the rights.
	ErrPermission = errors.New("permission denied")
	// ErrTimeout: the cluster did not answer within the configured timeout.
	ErrTimeout = errors.New("timed out")
	// ErrUnavailable: the cluster or a service cannot be reached at all.
	ErrUnavailable = errors.New("unavailable")
	// ErrInvalid: the request or argument is malformed.
	ErrInvalid = errors.New("invalid argument")
	// ErrBadLocation: an image location URL cannot be parsed or is not trusted.
	ErrBadLocation = errors.New("bad location")
	// ErrUnsafeImage: an image file was refused by the format inspector.
	ErrUnsafeImage = errors.New("unsafe image")
	// ErrFormatMismatch: the detected image format differs from the declared one.
	ErrFormatMismatch = errors.New("format mismatch")
	// ErrConflict: the request conflicts with the current state (e.g. a disk exists with another image).
	ErrConflict = errors.New("conflict")
	// ErrTooSmall: a requested size is smaller than the data it must hold.
	ErrTooSmall = errors.New("too small")
	// ErrChecksum: downloaded or uploaded data does not match its declared size or hash.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrRefused: a policy forbids the operation (e.g. --never-download).
	ErrRefused = errors.New("refused by policy")
)
