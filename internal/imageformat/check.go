package imageformat

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// accepted maps a declared disk_format (Glance's names) to the detected
// formats it may be. Only raw has an alias: a gpt disk is a raw disk.
var accepted = map[string][]Format{
	"raw": {Raw, GPT},
	"vpc": {VHD},
}

// Check refuses an image that is unsafe (errs.ErrUnsafeImage) or whose
// detected format is not the declared disk_format (errs.ErrFormatMismatch):
// an image registered as raw that really is a qcow2 would otherwise be handed
// to a hypervisor as raw and let the guest read host files (CVE-2024-40767).
func Check(info Info, declared string) error {
	if err := info.Err(); err != nil {
		return err
	}
	d := strings.ToLower(strings.TrimSpace(declared))
	want, ok := accepted[d]
	if !ok {
		want = []Format{Format(d)}
	}
	if !slices.Contains(want, info.Format) {
		return fmt.Errorf("%w: declared disk_format %q but the image is %s", errs.ErrFormatMismatch, declared, info.Format)
	}
	return nil
}
