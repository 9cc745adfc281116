package api

import (
	"io"
	"sync"
)

// parallelWriter feeds each chunk to several writers at once and returns
// when all have consumed it. md5 and sha512 each run at well under a
// storage cluster's write speed; run one after the other on the upload's
// only reading goroutine they would cap the upload rate.
type parallelWriter struct {
	ws []io.Writer
}

func newParallelWriter(ws ...io.Writer) io.Writer { return &parallelWriter{ws: ws} }

// minParallel: below this, goroutine hand-off costs more than it saves.
const minParallel = 64 << 10

func (p *parallelWriter) Write(b []byte) (int, error) {
	if len(b) < minParallel {
		for _, w := range p.ws {
			if _, err := w.Write(b); err != nil {
				return 0, err
			}
		}
		return len(b), nil
	}
	errs := make([]error, len(p.ws))
	var wg sync.WaitGroup
	for i, w := range p.ws[1:] {
		wg.Go(func() { _, errs[i+1] = w.Write(b) })
	}
	_, errs[0] = p.ws[0].Write(b)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return len(b), nil
}
