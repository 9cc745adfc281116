package agent

import (
	"context"
	"io"

	"github.com/cowdisk/cowdisk/internal/imageclient"
)

// Chunks and ReadRange serve the provisioner's verified sparse transfer
// with the service credentials, as Download does: Image has checked the
// caller first.
func (s CallerSource) Chunks(ctx context.Context, id string, max int64) (imageclient.ChunkList, error) {
	return imageclient.AsChunkReader(s.Service).Chunks(ctx, id, max)
}

func (s CallerSource) ReadRange(ctx context.Context, id string, off, n int64) (io.ReadCloser, error) {
	return imageclient.AsChunkReader(s.Service).ReadRange(ctx, id, off, n)
}
