package store

import (
	"context"
	"io"
)

// ContextReader stops a copy when Ctx ends (a shutdown, a client gone), so
// a long transfer does not run on until its source finishes.
type ContextReader struct {
	Ctx context.Context
	R   io.Reader
}

func (c ContextReader) Read(p []byte) (int, error) {
	if err := c.Ctx.Err(); err != nil {
		return 0, err
	}
	return c.R.Read(p)
}
