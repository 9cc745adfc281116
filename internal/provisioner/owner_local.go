package provisioner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// The local backend keeps a disk's metadata (owner.go) in a sidecar file
// "<disk>.qcow2.meta.json" beside the overlay. Both are made in the
// staging directory and the sidecar is published first (Local.stageDisk),
// under the disk's lock: a crash leaves at worst a sidecar without a disk,
// which nothing shows and the next create replaces, never a disk without
// an owner. A disk without one (made before owners were recorded, or a
// sidecar removed by hand) is seen only by admin and service callers
// (fail closed), never by another project.

// maxMetaFile bounds what Get reads from a sidecar.
const maxMetaFile = 4 << 10

func metaPath(diskPath string) string { return diskPath + ".meta.json" }

// writeMeta writes the sidecar for the staged overlay tmpDisk beside it,
// under a temporary name the caller renames into place or removes.
func writeMeta(tmpDisk string, req Request) (string, error) {
	b, err := json.Marshal(diskMeta(req, MethodBaseClone))
	if err != nil {
		return "", err
	}
	tmp := tmpDisk + ".meta.json"
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return "", fmt.Errorf("record owner of disk %s: %w", tmpDisk, err)
	}
	return tmp, nil
}

// readMeta reads the sidecar; a missing one is no metadata.
func readMetaFile(diskPath string) (map[string]string, error) {
	f, err := os.Open(metaPath(diskPath))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var kv map[string]string
	b := make([]byte, maxMetaFile+1)
	n, _ := f.Read(b)
	if n > maxMetaFile || json.Unmarshal(b[:n], &kv) != nil {
		return nil, fmt.Errorf("metadata of disk %s is unreadable", diskPath)
	}
	return kv, nil
}

// removeMeta removes a disk's sidecar; a missing one is fine.
func removeMeta(diskPath string) error {
	if err := os.Remove(metaPath(diskPath)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
