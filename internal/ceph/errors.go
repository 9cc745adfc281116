package ceph

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// errorCoder is implemented by every go-ceph error that carries an errno.
type errorCoder interface{ ErrorCode() int }

// sentinelFor maps a librados/librbd errno (negative, as go-ceph reports
// it) to the cowdisk sentinel, or nil when there is no better name.
func sentinelFor(code int) error {
	switch syscall.Errno(-code) {
	case syscall.ENOENT:
		return errs.ErrNotFound
	case syscall.EEXIST:
		return errs.ErrExists
	case syscall.EBUSY:
		return errs.ErrBusy
	case syscall.ENOTEMPTY:
		// librbd says ENOTEMPTY when an image still has snapshots or a
		// snapshot still has children: something depends on it.
		return errs.ErrInUse
	case syscall.EPERM, syscall.EACCES:
		return errs.ErrPermission
	case syscall.ETIMEDOUT:
		return errs.ErrTimeout
	case syscall.EINVAL, syscall.ERANGE, syscall.EDOM, syscall.ENAMETOOLONG:
		return errs.ErrInvalid
	case syscall.ENOTCONN, syscall.ESHUTDOWN, syscall.ECONNREFUSED, syscall.EHOSTUNREACH:
		return errs.ErrUnavailable
	}
	return nil
}

// translate is the one place where go-ceph errors become cowdisk errors.
// what names the object ("image images/abc@snap"), so every message says
// what it was about; the original error stays in the chain for logs.
func translate(err error, op, what string) error {
	if err == nil {
		return nil
	}
	var ce errorCoder
	if errors.As(err, &ce) {
		if s := sentinelFor(ce.ErrorCode()); s != nil {
			return fmt.Errorf("ceph: %s %s: %w (%w)", op, what, s, err)
		}
	}
	return fmt.Errorf("ceph: %s %s: %w", op, what, err)
}

// errno reports whether err is the given librados/librbd errno. It is used
// for the few decisions that depend on the raw code (clone fallback).
func errno(err error, e syscall.Errno) bool {
	var ce errorCoder
	return errors.As(err, &ce) && ce.ErrorCode() == -int(e)
}

// imageSpec, snapSpec and poolSpec name objects the way the rbd CLI does,
// for messages.
func imageSpec(pool, name string) string { return "image " + pool + "/" + name }

func snapSpec(pool, name, snap string) string {
	return "snapshot " + pool + "/" + name + "@" + snap
}

func poolSpec(pool string) string { return "pool " + pool }

// isNotFound reports whether err, raw or translated, means "does not exist".
func isNotFound(err error) bool {
	return err != nil && (errors.Is(err, errs.ErrNotFound) || errno(err, syscall.ENOENT))
}

// Errnos used in decisions, named once.
const (
	ebusy     = syscall.EBUSY
	enotempty = syscall.ENOTEMPTY
)
