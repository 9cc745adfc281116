package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// writeChunks stores or removes the chunk list inside Update's
// transaction: a record marked deleted loses its list, and a list set by
// the update replaces any earlier one.
func writeChunks(ctx context.Context, q querier, img Image) error {
	if img.Status == StatusDeleted {
		_, err := q.ExecContext(ctx, `DELETE FROM image_chunks WHERE image_id = ?`, img.ID)
		return err
	}
	if img.Chunks == nil {
		return nil
	}
	digests := img.Chunks.Digests
	if digests == nil {
		digests = []byte{} // the column is NOT NULL; an empty image has no chunks
	}
	_, err := q.ExecContext(ctx, `INSERT INTO image_chunks (image_id, chunk_size, digests, spans) VALUES (?, ?, ?, ?)
		ON CONFLICT (image_id) DO UPDATE SET chunk_size = excluded.chunk_size, digests = excluded.digests,
		spans = excluded.spans`,
		img.ID, img.Chunks.ChunkSize, digests, img.Chunks.Spans)
	return err
}

// Chunks implements Catalog.
func (s *SQLCatalog) Chunks(ctx context.Context, id string) (Chunks, error) {
	var c Chunks
	err := s.db.QueryRowContext(ctx, `SELECT chunk_size, digests, spans FROM image_chunks WHERE image_id = ?`, id).
		Scan(&c.ChunkSize, &c.Digests, &c.Spans)
	if errors.Is(err, sql.ErrNoRows) {
		return Chunks{}, fmt.Errorf("chunk list of image %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return Chunks{}, fmt.Errorf("chunk list of image %s: %w", id, s.unavailable(err))
	}
	return c, nil
}
