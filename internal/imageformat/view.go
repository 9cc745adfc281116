package imageformat

import (
	"errors"
	"fmt"
	"io"
)

// Window sizes. The head covers every fixed-offset header the parsers read
// (the vhdx region tables end at 320 KiB, the iso volume descriptor sits at
// 32 KiB); the tail holds the vhd footer and the streamOptimized vmdk footer
// (marker, footer, end-of-stream marker: 1536 bytes). Regions whose offsets
// are only known from the head (the vhdx metadata table) are captured as they
// pass, within maxCapture, so one image never costs more than ~0.5 MiB.
const (
	headSize   = 320 << 10
	tailSize   = 2 << 10
	maxCapture = 512 << 10
)

// needError says a parser needs bytes that have not been seen (yet).
type needError struct {
	off int64
	n   int
}

func (e *needError) Error() string {
	return fmt.Sprintf("header region at offset %d (%d bytes) was not captured", e.off, e.n)
}

// errNeedSize says a parser needs the size of the image, known only when a
// stream has ended; as a needError before any offset it is never captured.
var errNeedSize = &needError{off: -1}

// errShort says a parser needs bytes beyond the end of the image.
var errShort = errors.New("beyond end of image")

// span is a captured region of n bytes at off; buf holds what has been
// filled so far, from the start (it grows as the stream passes, so a small
// image never pays for the whole head window).
type span struct {
	off int64
	n   int
	buf []byte
}

func (s *span) complete() bool { return len(s.buf) == s.n }

func (s *span) slice(off int64, n int) ([]byte, bool) {
	if off < s.off || off+int64(n) > s.off+int64(len(s.buf)) {
		return nil, false
	}
	start := off - s.off
	return s.buf[start : start+int64(n)], true
}

// view is everything known about an image: the head, captured spans, the
// tail and (once known) the size. With ra set, misses are read on demand.
type view struct {
	head     span
	spans    []*span
	tail     []byte
	size     int64 // -1 while unknown
	ra       io.ReaderAt
	captured int
}

// at returns exactly n bytes at off, errShort past the end, or a *needError.
func (v *view) at(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off > 1<<62 {
		return nil, errShort
	}
	if v.size >= 0 && off+int64(n) > v.size {
		return nil, errShort
	}
	if b, ok := v.head.slice(off, n); ok {
		return b, nil
	}
	for _, s := range v.spans {
		if b, ok := s.slice(off, n); ok {
			return b, nil
		}
	}
	if v.size >= 0 {
		tailStart := v.size - int64(len(v.tail))
		if off >= tailStart {
			return v.tail[off-tailStart : off-tailStart+int64(n)], nil
		}
	}
	if v.ra != nil {
		return v.fetch(off, n)
	}
	return nil, &needError{off: off, n: n}
}

// fetch reads a region through ra, within the capture budget.
func (v *view) fetch(off int64, n int) ([]byte, error) {
	if v.captured+n > maxCapture {
		return nil, &needError{off: off, n: n}
	}
	b := make([]byte, n)
	if _, err := v.ra.ReadAt(b, off); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errShort
		}
		return nil, fmt.Errorf("read image at %d: %w", off, err)
	}
	v.captured += n
	v.spans = append(v.spans, &span{off: off, n: n, buf: b})
	return b, nil
}

// want registers a region to capture from the stream and returns its span;
// nil when over budget.
func (v *view) want(off int64, n int) *span {
	for _, s := range v.spans {
		if s.off == off && s.n == n {
			return s
		}
	}
	if v.captured+n > maxCapture {
		return nil
	}
	v.captured += n
	s := &span{off: off, n: n, buf: make([]byte, 0, n)}
	v.spans = append(v.spans, s)
	return s
}
