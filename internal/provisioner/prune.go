package provisioner

import (
	"context"
	"time"
)

// PruneOptions select what a prune removes.
type PruneOptions struct {
	DryRun    bool          // say what would go, remove nothing
	OlderThan time.Duration // only bases created at least this long ago (0: any age)
}

// OptionsPruner is a Backend whose prune takes options; Prune(ctx) is
// PruneWith(ctx, PruneOptions{}).
type OptionsPruner interface {
	PruneWith(ctx context.Context, o PruneOptions) ([]string, error)
}

// prunable picks the bases a prune may remove: no disk cloned from them and,
// with OlderThan, a known creation time at least that far back (a base of
// unknown age is kept: the option asks to spare recent ones).
func prunable(bases []Base, o PruneOptions, now time.Time) []Base {
	var out []Base
	for _, b := range bases {
		if len(b.Children) > 0 {
			continue
		}
		if o.OlderThan > 0 && (b.Created.IsZero() || now.Sub(b.Created) < o.OlderThan) {
			continue
		}
		out = append(out, b)
	}
	return out
}

// creationTimer is the part of a cluster that can tell when an image was
// created (librbd's create timestamp); a cluster without it leaves
// Base.Created zero.
type creationTimer interface {
	Created(ctx context.Context, pool, name string) (time.Time, error)
}
