package ceph

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// tempMarker marks an image that is still being written. Such an image is
// renamed into place only when complete, so a half-written image can never
// become a clone parent or be mistaken for a finished one.
const tempMarker = ".tmp-"

// IsTemp reports whether name is a temporary name.
func IsTemp(name string) bool { return strings.Contains(name, tempMarker) }

// tempName returns a fresh temporary name for name.
func tempName(name string) string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return name + tempMarker + hex.EncodeToString(b[:])
}
