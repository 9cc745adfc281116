package api

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// glanceReservedPrefix is Glance's reserved property namespace
// (os_glance_*): only the service itself sets those.
const glanceReservedPrefix = "os_glance"

// reservedKeys are names a custom property must not take, even in
// disguise: every field of the image view and Glance's reserved ones.
var reservedKeys = slices.Concat(coreFields, readOnly, []string{"location", "visibility"})

var folder = cases.Fold()

// foldKey is a property name as a comparison sees it: NFKC, then Unicode
// case folding, then NFKC again (case folding can undo a normalisation).
// "diſk_format" (long s), "ＳＩＺＥ" (full width) and "Size" all become
// core field names this way.
func foldKey(key string) string {
	return norm.NFKC.String(folder.String(norm.NFKC.String(key)))
}

// checkPropertyKey refuses a custom property whose name is a core field in
// disguise: a client reading properties by a folded name (or a human
// reading the listing) would take it for the real field; one such
// property made a node treat qcow2 bytes as a raw clone source.
func checkPropertyKey(key string) error {
	folded := foldKey(key)
	if slices.Contains(reservedKeys, folded) {
		return fmt.Errorf("property name %q is the core field %q after Unicode normalisation (NFKC and case folding): %w",
			key, folded, errs.ErrInvalid)
	}
	if strings.HasPrefix(folded, glanceReservedPrefix) {
		return fmt.Errorf("property name %q is in the reserved namespace %s*: %w", key, glanceReservedPrefix,
			errs.ErrPermission)
	}
	return nil
}
