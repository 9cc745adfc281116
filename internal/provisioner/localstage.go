package provisioner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// The local backend makes every temporary (downloads, conversions, disks
// and their owner sidecars before they are published) inside a staging
// directory of its own, "<local-dir>/staging/<random>", and publishes by
// rename into bases/ or disks/ (one file system). The reaper removes only
// whole staging directories, never a name in bases/ or disks/: a
// temporary is recorded by where it is, not guessed from a pattern, so a
// file someone else named "x.tmp-hostC-1" is never taken for ours.
//
// This is crash-safe without a journal: the temporary and its record come
// into being in one step (the create inside the staging directory), so
// there is no moment where one exists without the other, and nothing has
// to be flushed or compacted. Each process holds an flock on its staging
// directory while it lives; the kernel drops it when the process dies, so
// the reaper can tell a dead process's directory (lock free: remove it
// all) from a live one's (busy: leave it), even when two processes share
// the directory for a moment (a restart that overlaps the old process).

// stagingDir is the parent of every process's staging directory.
func stagingDir(root string) string { return filepath.Join(root, "staging") }

// staging is this process's staging directory, locked for as long as the
// Local that made it is in use.
type staging struct {
	dir  string
	lock *os.File
}

// newStaging makes and locks a new staging directory under root.
func newStaging(root string) (*staging, error) {
	if err := os.MkdirAll(stagingDir(root), 0o750); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(stagingDir(root), "p")
	if err != nil {
		return nil, err
	}
	f, err := tryLock(dir)
	if err != nil || f == nil {
		os.Remove(dir)
		return nil, fmt.Errorf("lock staging directory %s: %v", dir, err)
	}
	return &staging{dir: dir, lock: f}, nil
}

// tryLock opens dir and takes its lock without waiting; nil, nil when
// another process (or another Local) holds it.
func tryLock(dir string) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, nil
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// reap removes the staging directories of processes that are gone, with
// everything in them, and returns the paths removed. Anything else under
// staging/ (a file, a symlink, a directory still locked) is left alone.
func (s *staging) reap() ([]string, error) {
	entries, err := os.ReadDir(filepath.Dir(s.dir))
	if err != nil {
		return nil, err
	}
	var reaped []string
	for _, e := range entries {
		dir := filepath.Join(filepath.Dir(s.dir), e.Name())
		if dir == s.dir || e.Type() != fs.ModeDir {
			continue
		}
		gone, err := removeUnlocked(dir)
		reaped = append(reaped, gone...)
		if err != nil {
			return reaped, err
		}
	}
	return reaped, nil
}

// removeUnlocked removes dir and its files if no one holds its lock.
func removeUnlocked(dir string) ([]string, error) {
	f, err := tryLock(dir)
	if f == nil {
		return nil, err
	}
	defer f.Close()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, e := range entries {
		gone = append(gone, filepath.Join(dir, e.Name()))
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	return append(gone, dir), nil
}

// close removes the staging directory and lets go of its lock; whatever
// used it has finished (a clean shutdown leaves nothing to reap).
func (s *staging) close() error {
	err := os.RemoveAll(s.dir)
	return errors.Join(err, s.lock.Close())
}
