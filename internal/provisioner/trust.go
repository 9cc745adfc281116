package provisioner

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/rbdloc"
)

// The image service is not trusted: its answer names files and RBD images
// on this node (bases, their snapshots), picks what is cloned, and says how
// the bytes are read. Everything in it is checked here before any of it is
// used, and only the id this node asked for (validated by ValidImageID)
// ever goes into a name.

// ValidImageID accepts only a canonical lower-case UUID: the form Glance
// and the image service give ids, and one that cannot carry a path
// separator, "@", "_", ".tmp-", a query or a pool name into the names made
// from it.
func ValidImageID(id string) error {
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return fmt.Errorf("image id %s is not a canonical lower-case UUID: %w", quoteBounded(id), errs.ErrInvalid)
	}
	return nil
}

// diskFormats are the disk_format values a record may carry (Glance's list).
var diskFormats = []string{"raw", "qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso", "ploop", "qed", "aki", "ari", "ami"}

// hashLen is the hex length of each os_hash_algo the node can verify.
var hashLen = map[string]int{"sha512": 128, "sha384": 96, "sha256": 64, "md5": 32}

// maxLocations bounds the locations tried per create (each may cost a
// cluster round trip).
const maxLocations = 16

// CheckRecord is checkRecord for callers outside (the fuzz target over
// image records lives where no dev cluster is booted).
func CheckRecord(asked string, img Image) error { return checkRecord(asked, img) }

// checkRecord refuses an image record that is not about the image asked
// for or that carries values no honest service sends. The refusal wraps
// errs.ErrRefused (422): the image, as served, cannot be used.
func checkRecord(asked string, img Image) error {
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("image %s: record refused: %s: %w", asked, fmt.Sprintf(format, args...), errs.ErrRefused)
	}
	switch {
	case img.ID != asked:
		return refuse("the image service answered with id %s", quoteBounded(img.ID))
	case !slices.Contains(diskFormats, img.DiskFormat) && !(img.DiskFormat == "" && img.Status != "active"):
		return refuse("disk_format %s is not one of %v", quoteBounded(img.DiskFormat), diskFormats)
	case img.Size < 0 || img.VirtualSize < 0:
		return refuse("negative size %d or virtual_size %d", img.Size, img.VirtualSize)
	case (img.Status == "active" || img.Status == "") && img.Size == 0:
		// The declared size bounds the download (and the local file it
		// lands in); an active image always has one.
		return refuse("active image without a size")
	case img.Checksum != "" && !isHex(img.Checksum, 32):
		return refuse("checksum %s is not an md5 in hex", quoteBounded(img.Checksum))
	case len(img.Locations) > maxLocations:
		return refuse("%d locations, at most %d are tried", len(img.Locations), maxLocations)
	}
	if img.HashValue != "" || img.HashAlgo != "" {
		n, ok := hashLen[img.HashAlgo]
		if !ok {
			return refuse("os_hash_algo %s is not one of sha512, sha384, sha256, md5", quoteBounded(img.HashAlgo))
		}
		if !isHex(img.HashValue, n) {
			return refuse("os_hash_value %s is not a %s in hex", quoteBounded(img.HashValue), img.HashAlgo)
		}
	}
	return nil
}

// isHex: exactly n lower- or upper-case hex digits.
func isHex(s string, n int) bool {
	_, err := hex.DecodeString(s)
	return len(s) == n && err == nil
}

// quoteBounded quotes a value that came from outside for a message: cut to
// a readable length, credentials removed, control bytes escaped.
func quoteBounded(s string) string {
	const max = 80
	s = rbdloc.Redact(s)
	if len(s) > max {
		return fmt.Sprintf("%q…", strings.ToValidUTF8(s[:max], ""))
	}
	return fmt.Sprintf("%q", s)
}
