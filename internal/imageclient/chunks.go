package imageclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/cowdisk/cowdisk/internal/chunklist"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/strictjson"
)

// ChunksProperty is the read-only image property that binds an image's
// chunk list (cowdisk verified sparse transfer, version 1) to its record.
const ChunksProperty = chunklist.Property

// ChunkList is the answer of GET /v2/images/{id}/cowdisk-chunks (the
// service's own type). Nothing in it is trusted until the caller has
// checked it against the image record.
type ChunkList = chunklist.List

// ChunkReader is what a verified sparse transfer needs from the service.
// cowdisk's client implements it; a caller type-asserts a Client to it.
type ChunkReader interface {
	// Chunks reads the image's chunk list, at most max bytes of JSON. An
	// image without a list (or a service without the endpoint) is
	// errs.ErrNotFound; an answer over max or not a strict JSON object is
	// errs.ErrRefused.
	Chunks(ctx context.Context, id string, max int64) (ChunkList, error)
	// ReadRange reads n bytes of the image data from off. The reader fails
	// (errs.ErrRefused) unless the service answered 206 with exactly that
	// range and exactly n bytes; a body cut short is an error, not io.EOF.
	ReadRange(ctx context.Context, id string, off, n int64) (io.ReadCloser, error)
}

func (g *glance) Chunks(ctx context.Context, id string, max int64) (ChunkList, error) {
	what := "chunk list of image " + id
	// With the data spans: a service that does not know the query answers
	// the list alone, which works as well.
	url := g.sc.ServiceURL("images", id, "cowdisk-chunks") + "?" + chunklist.SpansQuery
	resp, err := g.sc.Get(ctx, url, nil, &gophercloud.RequestOpts{
		KeepResponseBody: true, OkCodes: []int{http.StatusOK}})
	if err != nil {
		return ChunkList{}, translate(err, "get "+what)
	}
	defer resp.Body.Close()
	data, err := readBounded(resp.Body, max, "get "+what, "the bound for the image's size")
	if err != nil {
		return ChunkList{}, err
	}
	var l ChunkList
	if err := strictjson.Unmarshal(data, &l, strictjson.Options{}); err != nil {
		return ChunkList{}, fmt.Errorf("%s refused: %v: %w", what, err, errs.ErrRefused)
	}
	return l, nil
}

func (g *glance) ReadRange(ctx context.Context, id string, off, n int64) (io.ReadCloser, error) {
	if off < 0 || n <= 0 {
		return nil, fmt.Errorf("read image %s: bad range %d+%d: %w", id, off, n, errs.ErrInvalid)
	}
	what := fmt.Sprintf("image %s bytes %d-%d", id, off, off+n-1)
	// 200 is accepted here only to be refused below with a clear message
	// (a service that ignores Range sends the whole image).
	resp, err := g.sc.Get(ctx, g.sc.ServiceURL("images", id, "file"), nil, &gophercloud.RequestOpts{
		KeepResponseBody: true, OkCodes: []int{http.StatusOK, http.StatusPartialContent},
		MoreHeaders: map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", off, off+n-1)}})
	if err != nil {
		return nil, translate(err, "read "+what)
	}
	if err := checkRange(resp, off, n); err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("read %s: %w: %w", what, err, errs.ErrRefused)
	}
	return &exactBody{rc: resp.Body, left: n, what: what}, nil
}

// checkRange accepts only a 206 for exactly [off, off+n).
func checkRange(resp *http.Response, off, n int64) error {
	if resp.StatusCode != http.StatusPartialContent {
		return fmt.Errorf("answered HTTP %d, not 206 Partial Content", resp.StatusCode)
	}
	cr := resp.Header.Get("Content-Range")
	var a, b int64
	var total string
	if _, err := fmt.Sscanf(cr, "bytes %d-%d/%s", &a, &b, &total); err != nil || a != off || b != off+n-1 {
		return fmt.Errorf("answered Content-Range %.80q", cr)
	}
	if resp.ContentLength >= 0 && resp.ContentLength != n {
		return fmt.Errorf("answered Content-Length %d", resp.ContentLength)
	}
	return nil
}

// exactBody yields exactly left bytes; fewer is an error, not io.EOF.
// (Net/http itself stops at the Content-Length checked above.)
type exactBody struct {
	rc   io.ReadCloser
	left int64
	what string
}

func (e *exactBody) Read(p []byte) (int, error) {
	if e.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.rc.Read(p)
	e.left -= int64(n)
	// net/http reports a body that ends before its Content-Length as
	// io.ErrUnexpectedEOF, one without a length just ends: both cut short.
	if (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)) && e.left > 0 {
		return n, fmt.Errorf("read %s: cut short, %d bytes missing: %w: %w", e.what, e.left, io.ErrUnexpectedEOF, errs.ErrRefused)
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

func (e *exactBody) Close() error { return e.rc.Close() }

// AsChunkReader is v's ChunkReader, or one that has no lists (every call
// errs.ErrNotFound, so callers fall back to the whole-stream download)
// when v is a client or source that cannot read them.
func AsChunkReader(v any) ChunkReader {
	if cr, ok := v.(ChunkReader); ok {
		return cr
	}
	return noChunks{}
}

type noChunks struct{}

func (noChunks) Chunks(_ context.Context, id string, _ int64) (ChunkList, error) {
	return ChunkList{}, fmt.Errorf("image %s: no chunk lists through this client: %w", id, errs.ErrNotFound)
}

func (noChunks) ReadRange(_ context.Context, id string, _, _ int64) (io.ReadCloser, error) {
	return nil, fmt.Errorf("image %s: no ranged reads through this client: %w", id, errs.ErrNotFound)
}
