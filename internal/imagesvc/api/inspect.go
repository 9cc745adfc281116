package api

import (
	"fmt"
	"io"
	"slices"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageformat"
)

// Inspection checks upload data as it streams past (it sits in an
// io.TeeReader) and judges it once the stream has ended.
type Inspection interface {
	io.Writer
	// Verdict returns the virtual size, or an error wrapping
	// errs.ErrUnsafeImage or errs.ErrFormatMismatch.
	Verdict(diskFormat string) (virtualSize int64, err error)
}

// NewFormatInspection is the default Inspection: the imageformat inspector.
func NewFormatInspection() Inspection {
	return formatInspection{imageformat.NewInspector(imageformat.Limits{})}
}

type formatInspection struct{ *imageformat.Inspector }

func (f formatInspection) Verdict(diskFormat string) (int64, error) {
	info, err := f.Result()
	if err != nil {
		return 0, fmt.Errorf("image data refused: %w", err)
	}
	if err := formatMatches(info.Format, diskFormat); err != nil {
		return 0, err
	}
	return int64(info.VirtualSize), nil
}

// formatMatches is the declared-versus-detected rule (a gpt disk is raw).
// It refuses a qcow2 registered as raw (CVE-2024-40767): a raw image is
// handed to hypervisors unparsed, so its bytes must not parse as anything.
func formatMatches(detected imageformat.Format, declared string) error {
	ok := string(detected) == declared
	if declared == "raw" {
		ok = slices.Contains([]imageformat.Format{imageformat.Raw, imageformat.GPT}, detected)
	}
	if !ok {
		return fmt.Errorf("data is %s but disk_format is %s: %w", detected, declared, errs.ErrFormatMismatch)
	}
	return nil
}
