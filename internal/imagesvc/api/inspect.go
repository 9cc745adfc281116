package api

import (
	"fmt"
	"io"

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

// NewFormatInspection is the default Inspection: the imageformat inspector
// and its declared-versus-detected rule (which refuses, for one, a qcow2
// registered as raw: CVE-2024-40767).
func NewFormatInspection() Inspection {
	return formatInspection{imageformat.NewInspector(imageformat.Limits{})}
}

type formatInspection struct{ *imageformat.Inspector }

func (f formatInspection) Verdict(diskFormat string) (int64, error) {
	info, _ := f.Result() // Check repeats Result's refusal, if any
	if err := imageformat.Check(info, diskFormat); err != nil {
		return 0, fmt.Errorf("image data refused: %w", err)
	}
	return int64(info.VirtualSize), nil
}
