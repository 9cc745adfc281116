package api

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"

	chunks "github.com/cowdisk/cowdisk/internal/chunklist"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
)

// chunkList serves GET /v2/images/{id}/cowdisk-chunks: the chunk list
// recorded at upload, under the same rules as the image's data (a caller
// that cannot download the image cannot read its list). An image without
// the binding property has no list (data from a location, or uploaded
// before lists existed): 404, and the node downloads the whole stream.
func (s *Server) chunkList(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	img, err := s.lookupData(ctx, p, r.PathValue("id"))
	if err == nil && (!hasData(img) || img.Properties[chunks.Property] == "" || img.Size == nil ||
		img.OSHashValue == nil) {
		err = fmt.Errorf("image %s has no chunk list: %w", img.ID, errs.ErrNotFound)
	}
	var head chunks.List
	var list []byte
	if err == nil {
		c, cerr := s.cfg.Catalog.Chunks(ctx, img.ID)
		list, err = c.Digests, cerr
		head = chunks.List{Version: chunks.Version, ImageID: img.ID, Size: *img.Size, ChunkSize: c.ChunkSize,
			Algorithm: chunks.Algorithm, OSHashAlgo: "sha512", OSHashValue: *img.OSHashValue}
		// Only to a node that asks: an older one decodes the list
		// strictly and would refuse the extra members.
		if r.URL.RawQuery == chunks.SpansQuery {
			if sp := chunks.DecodeSpans(c.Spans); len(sp) > 0 && len(sp)*chunks.DigestSize == len(list) {
				head.SpanUnit, head.Spans = chunks.SpanUnit, sp
			}
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	writeChunkList(w, head, list)
}

// writeChunkList writes head with "chunks" appended: the hex digests,
// streamed (~67 bytes of JSON per 4 MiB of image), so the largest image's
// list is never built in memory as strings.
func writeChunkList(w http.ResponseWriter, head chunks.List, list []byte) {
	b, _ := json.Marshal(head) // plain strings and numbers, no chunks: cannot fail
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(b[:len(b)-1])
	bw.WriteString(`,"chunks":[`)
	var hx [2 * chunks.DigestSize]byte
	for i := 0; i+chunks.DigestSize <= len(list); i += chunks.DigestSize {
		if i > 0 {
			bw.WriteByte(',')
		}
		hex.Encode(hx[:], list[i:i+chunks.DigestSize])
		bw.WriteByte('"')
		bw.Write(hx[:])
		bw.WriteByte('"')
	}
	bw.WriteString("]}\n")
	bw.Flush()
}
