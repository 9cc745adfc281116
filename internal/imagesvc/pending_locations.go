package imagesvc

import (
	"context"

	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
)

var _ store.LocationChecker = (*pendingStore)(nil)

// CheckLocation forwards to the rbd store once Ceph is connected.
func (p *pendingStore) CheckLocation(ctx context.Context, id, location string) (int64, error) {
	st, err := p.get()
	if err != nil {
		return 0, err
	}
	return st.CheckLocation(ctx, id, location)
}
