package devcluster

import (
	"context"
	"errors"
	"fmt"
)

// ErrMemstore means a stopped memstore cluster cannot start again: its
// OSD kept everything, its own superblock included, in memory.
var ErrMemstore = errors.New("a memstore OSD loses its data when it stops")

// Stop stops the cluster's daemons by pid and keeps its directory, so a
// bluestore cluster can be started again with its data (Down removes it).
func Stop(ctx context.Context, dir string) error {
	c, err := Load(dir)
	if err != nil {
		return fmt.Errorf("no dev cluster in %s: %w", dir, err)
	}
	return c.stopAll()
}

// Start starts a stopped cluster's monitor and OSD again and returns once
// the OSD is up. Only bluestore clusters keep data across a stop.
func Start(ctx context.Context, dir string) (*Cluster, error) {
	c, err := Load(dir)
	if err != nil {
		return nil, fmt.Errorf("no dev cluster in %s: %w", dir, err)
	}
	if c.ObjectStore != "bluestore" {
		return nil, fmt.Errorf("dev cluster in %s: %w; boot it again with `up` (or use --objectstore bluestore)", dir, ErrMemstore)
	}
	if err := c.StartMon(ctx); err != nil {
		return nil, fmt.Errorf("dev cluster in %s: %w", dir, err)
	}
	if err := c.StartOSD(ctx); err != nil {
		return nil, fmt.Errorf("dev cluster in %s: %w", dir, err)
	}
	return c, nil
}
