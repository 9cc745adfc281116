package imagesvc

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/rbdstore"
)

// pendingStore stands in for the rbd store until Ceph is connected, so the
// service listens (catalog reads, image records, 503 for data) while the
// monitor is down instead of exiting after the mount timeout.
type pendingStore struct {
	st atomic.Pointer[rbdstore.Store]
}

var (
	_ store.Store  = (*pendingStore)(nil)
	_ store.Hasher = (*pendingStore)(nil)
	_ store.Teeing = (*pendingStore)(nil)
)

func (p *pendingStore) ready(st *rbdstore.Store) { p.st.Store(st) }

func (p *pendingStore) get() (*rbdstore.Store, error) {
	if st := p.st.Load(); st != nil {
		return st, nil
	}
	return nil, fmt.Errorf("rbd store: Ceph not connected yet: %w", errs.ErrUnavailable)
}

// ID is known before the connection: /v2/info/stores must not change.
func (p *pendingStore) ID() string { return "rbd" }

// HashesData is rbdstore's answer, fixed before the connection.
func (p *pendingStore) HashesData() bool { return true }

func (p *pendingStore) Put(ctx context.Context, id string, r io.Reader, size int64) (store.Result, error) {
	st, err := p.get()
	if err != nil {
		return store.Result{}, err
	}
	return st.Put(ctx, id, r, size)
}

func (p *pendingStore) PutTee(ctx context.Context, id string, r io.Reader, size int64, tees []io.Writer) (
	store.Result, error) {
	st, err := p.get()
	if err != nil {
		return store.Result{}, err
	}
	return st.PutTee(ctx, id, r, size, tees)
}

func (p *pendingStore) Open(ctx context.Context, location string) (store.Object, error) {
	st, err := p.get()
	if err != nil {
		return nil, err
	}
	return st.Open(ctx, location)
}

func (p *pendingStore) Delete(ctx context.Context, location string) error {
	st, err := p.get()
	if err != nil {
		return err
	}
	return st.Delete(ctx, location)
}
