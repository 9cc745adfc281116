package ceph_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// sparse builds objects of 4 MiB: data where pattern is true, zeros elsewhere.
func sparse(t *testing.T, pattern []bool, tail int) []byte {
	var b []byte
	for _, data := range pattern {
		if data {
			b = append(b, randomData(t, 4*mib)...)
		} else {
			b = append(b, make([]byte, 4*mib)...)
		}
	}
	return append(b, randomData(t, tail)...)
}

func TestImportReadBack(t *testing.T) {
	data := sparse(t, []bool{true, false, false, true, false, true}, 12345)
	for _, tc := range []struct {
		name string
		size int64
		r    func() io.Reader
	}{
		{"known size", int64(len(data)), func() io.Reader { return bytes.NewReader(data) }},
		{"unknown size", -1, func() io.Reader { return bytes.NewReader(data) }},
		{"unknown size, short reads", -1, func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, c, images, _ := setup(t)
			name := imageName(t, "")
			res, err := c.Import(ctx, tc.r(), tc.size, images, name, ceph.ImportOptions{Workers: 3})
			if err != nil {
				t.Fatal(err)
			}
			removeAtEnd(t, c, images, name)
			m, s := md5.Sum(data), sha512.Sum512(data)
			want := ceph.ImportResult{Size: uint64(len(data)), Written: 3*4*mib + 12345,
				MD5: hex.EncodeToString(m[:]), SHA512: hex.EncodeToString(s[:])}
			if res != want {
				t.Fatalf("result %+v, want %+v", res, want)
			}
			if got := readAll(t, ctx, c, images, name, ""); !bytes.Equal(got, data) {
				t.Fatal("imported image differs from the source")
			}
			used, err := c.UsedBytes(ctx, images, name)
			if err != nil || used != want.Written {
				t.Fatalf("UsedBytes = %d, %v; want %d (zeros must not be written)", used, err, want.Written)
			}
			testcluster.AssertPoolClean(t, c, images, name)
		})
	}
}

// failingReader returns data and then err.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// TestImportSkipsZeroBlocks: inside a chunk only the data blocks are sent.
func TestImportSkipsZeroBlocks(t *testing.T) {
	ctx, c, images, _ := setup(t)
	data := make([]byte, 8*mib)
	copy(data[mib:], randomData(t, 8192))
	copy(data[5*mib+4096:], randomData(t, 100))
	name := imageName(t, "")
	res := importBytes(t, ctx, c, images, name, data)
	if res.Written != 8192+4096 {
		t.Fatalf("wrote %d bytes, want %d", res.Written, 8192+4096)
	}
	if got := readAll(t, ctx, c, images, name, ""); !bytes.Equal(got, data) {
		t.Fatal("imported image differs from the source")
	}
	// Without fast-diff, librbd reports each object from its start to its
	// last written byte: two objects, each far from full.
	used, err := c.UsedBytes(ctx, images, name)
	if err != nil || used == 0 || used > 2*(mib+8192) {
		t.Fatalf("UsedBytes = %d, %v; want two partly written objects", used, err)
	}
}

func TestImportSkipHashes(t *testing.T) {
	ctx, c, images, _ := setup(t)
	name := imageName(t, "")
	res, err := c.Import(ctx, bytes.NewReader(randomData(t, mib)), mib, images, name, ceph.ImportOptions{SkipHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	removeAtEnd(t, c, images, name)
	if res.MD5 != "" || res.SHA512 != "" || res.Size != mib {
		t.Fatalf("result %+v, want no hashes", res)
	}
}

// TestImportTees: every tee gets the whole stream in order, zeros
// included (they are skipped only on the way to the cluster), with and
// without the hashes.
func TestImportTees(t *testing.T) {
	ctx, c, images, _ := setup(t)
	data := append(randomData(t, 3*mib+5), make([]byte, 4*mib)...)
	data = append(data, randomData(t, mib)...)
	for _, skip := range []bool{false, true} {
		name := imageName(t, fmt.Sprint(skip))
		a, b := sha256.New(), sha256.New()
		res, err := c.Import(ctx, bytes.NewReader(data), -1, images, name,
			ceph.ImportOptions{SkipHashes: skip, ChunkSize: mib, Tees: []io.Writer{a, b}})
		if err != nil {
			t.Fatal(err)
		}
		removeAtEnd(t, c, images, name)
		want := sha256.Sum256(data)
		if !bytes.Equal(a.Sum(nil), want[:]) || !bytes.Equal(b.Sum(nil), want[:]) || res.Size != uint64(len(data)) ||
			(res.MD5 == "") != skip {
			t.Fatalf("skip hashes %v: tees saw other bytes than the stream's (result %+v)", skip, res)
		}
	}
}

func TestImportFailuresLeaveNothing(t *testing.T) {
	data := randomData(t, 10*mib)
	broken := errors.New("connection reset by peer")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		r    io.Reader
		size int64
		want error
	}{
		{"stream fails half way", nil, &failingReader{bytes.NewReader(data[:5*mib]), broken}, int64(len(data)), broken},
		{"stream fails, unknown size", nil, &failingReader{bytes.NewReader(data[:5*mib]), broken}, -1, broken},
		// net/http reports a cut chunked body of unknown length as
		// io.ErrUnexpectedEOF; it must not pass for a short last chunk.
		{"source cut, unknown size", nil, &failingReader{bytes.NewReader(data[:5*mib+7]), io.ErrUnexpectedEOF}, -1, io.ErrUnexpectedEOF},
		{"stream shorter than size", nil, bytes.NewReader(data[:5*mib]), int64(len(data)), errs.ErrChecksum},
		{"stream longer than size", nil, bytes.NewReader(data), 6 * mib, errs.ErrChecksum},
		{"cancelled", cancelled, bytes.NewReader(data), int64(len(data)), context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, c, images, _ := setup(t)
			if tc.ctx != nil {
				ctx = tc.ctx
			}
			_, err := c.Import(ctx, tc.r, tc.size, images, imageName(t, ""), ceph.ImportOptions{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Import = %v, want %v", err, tc.want)
			}
			testcluster.AssertPoolClean(t, c, images)
		})
	}
}

func TestImportCancelMidway(t *testing.T) {
	ctx, c, images, _ := setup(t)
	cctx, cancel := context.WithCancel(ctx)
	r := &cancelAfter{r: bytes.NewReader(randomData(t, 32*mib)), left: 9 * mib, cancel: cancel}
	_, err := c.Import(cctx, r, -1, images, imageName(t, ""), ceph.ImportOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Import = %v, want context.Canceled", err)
	}
	testcluster.AssertPoolClean(t, c, images)
}

// cancelAfter cancels a context once left bytes were read.
type cancelAfter struct {
	r      io.Reader
	left   int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.left -= n; c.left <= 0 {
		c.cancel()
	}
	return n, err
}

func TestImportIntoExistingName(t *testing.T) {
	ctx, c, images, _ := setup(t)
	name := imageName(t, "")
	importBytes(t, ctx, c, images, name, randomData(t, mib))
	_, err := c.Import(ctx, bytes.NewReader(randomData(t, mib)), mib, images, name, ceph.ImportOptions{})
	if !errors.Is(err, errs.ErrExists) {
		t.Fatalf("Import over existing = %v, want ErrExists", err)
	}
	testcluster.AssertPoolClean(t, c, images, name)
}
