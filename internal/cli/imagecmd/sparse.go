package imagecmd

import (
	"io"
	"os"

	"github.com/cowdisk/cowdisk/internal/zeros"
)

// sparseBlock is the unit of hole detection: the common file system block.
const sparseBlock = 4096

// sparseWriter writes f sequentially but seeks over all-zero blocks, so a
// mostly empty disk image takes only the space of its data. Blocks are
// aligned to file offsets, whatever size the writes come in. finish sets
// the final length, which also covers a run of zeros at the end.
type sparseWriter struct {
	f   *os.File
	off int64
}

func (s *sparseWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), sparseBlock-int(s.off%sparseBlock))
		piece := p[:n]
		if zeros.All(piece) {
			if _, err := s.f.Seek(int64(n), io.SeekCurrent); err != nil {
				return written, err
			}
		} else if _, err := s.f.Write(piece); err != nil {
			return written, err
		}
		s.off += int64(n)
		written += n
		p = p[n:]
	}
	return written, nil
}

func (s *sparseWriter) finish() error { return s.f.Truncate(s.off) }
