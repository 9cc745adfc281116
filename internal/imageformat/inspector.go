package imageformat

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Inspector detects an image's format from a stream passing through it.
//
// Write it the whole image in order (io.Copy, io.TeeReader, io.MultiWriter);
// it keeps only the head, the regions the format parsers ask for and the
// last bytes, so memory stays bounded whatever the image size. Call Result
// once the stream has ended: formats with trailing headers (vhd, vmdk) and
// checks against the file size (qcow2 L1 table, truncation) need the end.
type Inspector struct {
	lim Limits
	v   view
	pos int64
}

// NewInspector returns an Inspector that applies l.
func NewInspector(l Limits) *Inspector {
	i := &Inspector{lim: l}
	i.v.size = -1
	i.v.head.n = headSize
	i.v.captured = headSize
	return i
}

// Write records what the Inspector needs from p. It never fails, so that an
// upload is never broken by the inspection itself; refusals come from Result.
func (i *Inspector) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		step := len(p)
		if b := i.nextBoundary(); b > i.pos && b-i.pos < int64(step) {
			step = int(b - i.pos)
		}
		i.consume(p[:step])
		p = p[step:]
		if i.atBoundary() {
			i.plan()
		}
	}
	return n, nil
}

// Result decides the format from everything written so far, taken as the
// whole image. The error wraps errs.ErrUnsafeImage when Info.Safe is false.
func (i *Inspector) Result() (Info, error) {
	v := i.v
	v.size = i.pos
	info := decide(&v, i.lim)
	return info, info.Err()
}

// Inspect reads r through an Inspector. When r is also an io.ReaderAt with a
// known size (a regular *os.File, an *io.SectionReader, a *bytes.Reader) only
// the needed regions are read, with ReadAt, so r's offset does not move;
// otherwise r is read to its end, in bounded memory.
func Inspect(r io.Reader, l Limits) (Info, error) {
	if ra, ok := r.(io.ReaderAt); ok {
		if size, ok := sizeOf(r); ok {
			return InspectReaderAt(ra, size, l)
		}
	}
	i := NewInspector(l)
	if _, err := io.Copy(i, r); err != nil {
		return Info{}, fmt.Errorf("inspect image: %w", err)
	}
	return i.Result()
}

// InspectReaderAt inspects an image of the given size through random access,
// reading only the head, the tail and the regions the parsers ask for.
func InspectReaderAt(ra io.ReaderAt, size int64, l Limits) (Info, error) {
	v := view{size: size, ra: ra}
	n := min(size, headSize)
	v.head.buf = make([]byte, n)
	if _, err := ra.ReadAt(v.head.buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return Info{}, fmt.Errorf("inspect image: read head: %w", err)
	}
	v.head.n = int(n)
	v.captured = int(n)
	tailLen := min(size, tailSize)
	v.tail = make([]byte, tailLen)
	if _, err := ra.ReadAt(v.tail, size-tailLen); err != nil && !errors.Is(err, io.EOF) {
		return Info{}, fmt.Errorf("inspect image: read tail: %w", err)
	}
	info := decide(&v, l)
	return info, info.Err()
}

// InspectFile inspects the local file at path through random access.
func InspectFile(path string, l Limits) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, fmt.Errorf("inspect image: %w", err)
	}
	defer f.Close()
	return Inspect(f, l)
}

func sizeOf(r io.Reader) (int64, bool) {
	switch s := r.(type) {
	case interface{ Stat() (os.FileInfo, error) }:
		fi, err := s.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0, false
		}
		return fi.Size(), true
	case interface{ Size() int64 }:
		return s.Size(), true
	}
	return 0, false
}

// consume copies the part of p that falls into the head, into wanted spans
// and into the tail ring.
func (i *Inspector) consume(p []byte) {
	fill(&i.v.head, i.pos, p)
	for _, s := range i.v.spans {
		fill(s, i.pos, p)
	}
	i.pos += int64(len(p))
	if len(p) >= tailSize {
		i.v.tail = append(i.v.tail[:0], p[len(p)-tailSize:]...)
		return
	}
	i.v.tail = append(i.v.tail, p...)
	if over := len(i.v.tail) - tailSize; over > 0 {
		i.v.tail = append(i.v.tail[:0], i.v.tail[over:]...)
	}
}

// fill appends to s the bytes of p (which starts at stream offset pos) that
// continue s's contiguous fill.
func fill(s *span, pos int64, p []byte) {
	next := s.off + int64(len(s.buf))
	if s.complete() || next < pos || next >= pos+int64(len(p)) {
		return
	}
	p = p[next-pos:]
	s.buf = append(s.buf, p[:min(len(p), s.n-len(s.buf))]...)
}

// nextBoundary is the next stream offset after which plan must run: the end
// of the head or of a span still being filled.
func (i *Inspector) nextBoundary() int64 {
	b := int64(-1)
	consider := func(s *span) {
		end := s.off + int64(s.n)
		if !s.complete() && end > i.pos && (b < 0 || end < b) {
			b = end
		}
	}
	consider(&i.v.head)
	for _, s := range i.v.spans {
		consider(s)
	}
	return b
}

func (i *Inspector) atBoundary() bool {
	if i.pos == int64(i.v.head.n) {
		return true
	}
	for _, s := range i.v.spans {
		if i.pos == s.off+int64(s.n) {
			return true
		}
	}
	return false
}

// plan runs the parsers of the formats the head matches and registers the
// regions they still need: ahead in the stream, or straddling the end of the
// head (the part already seen is copied from it). Regions that passed
// otherwise, or over budget, stay missing and Result refuses the image.
func (i *Inspector) plan() {
	for _, d := range detectors {
		if !d.match(&i.v) {
			continue
		}
		var need *needError
		if err := d.parse(&i.v, &Info{}); !errors.As(err, &need) || need.off < 0 {
			continue
		}
		seen := []byte(nil)
		if need.off < i.pos {
			var ok bool
			if seen, ok = i.v.head.slice(need.off, int(i.pos-need.off)); !ok || len(seen) >= need.n {
				continue
			}
		}
		if s := i.v.want(need.off, need.n); s != nil && len(s.buf) == 0 {
			s.buf = append(s.buf, seen...)
		}
	}
}
