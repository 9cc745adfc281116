package api

import (
	chunks "github.com/cowdisk/cowdisk/internal/chunklist"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// digests are what the upload pass computes of an image's data: Glance's
// checksum (md5) and os_hash_value (sha512), and cowdisk's chunk list.
type digests struct {
	md5, sha512 string
	chunks      *catalog.Chunks // nil when the store hashed on its own (no tee)
}

func digesterChunks(d *chunks.Digester) *catalog.Chunks {
	_, list := d.Sum()
	return &catalog.Chunks{ChunkSize: chunks.ChunkSize, Digests: list, Spans: d.Spans()}
}

// apply records the digests on the image being activated, in the same
// catalog update: the hashes, the chunk list and the read-only property
// that binds the list to os_hash_value. Without a list the property is
// cleared, so a stale binding can never name the wrong data.
func (d digests) apply(i *catalog.Image, size int64) {
	algo := "sha512"
	i.Checksum, i.OSHashAlgo, i.OSHashValue = &d.md5, &algo, &d.sha512
	if d.chunks == nil {
		delete(i.Properties, chunks.Property)
		return
	}
	if i.Properties == nil {
		i.Properties = map[string]string{}
	}
	i.Chunks = d.chunks
	i.Properties[chunks.Property] = chunks.Binding(size, d.chunks.ChunkSize, d.sha512, d.chunks.Digests)
}
