package provisioner

import (
	"errors"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

func TestPlanMemory(t *testing.T) {
	const MiB, chunk = 1 << 20, 4 << 20
	for _, tc := range []struct {
		name        string
		max         uint64
		fetches     int
		wantWorkers int
		wantErr     string
	}{
		{"plenty: the default writers", 1 << 30, 2, DefaultFetchWorkers, ""},
		{"exactly the default bound", MemoryBound(2, 4, chunk), 2, 4, ""},
		{"one byte short of the default", MemoryBound(2, 4, chunk) - 1, 2, 3, ""},
		{"one writer each", MemoryBound(2, 1, chunk), 2, 1, ""},
		{"more fetches, fewer writers", 256 * MiB, 8, 1, ""},
		{"too small for two fetches", MemoryBound(2, 1, chunk) - 1, 2, 0, "needed for 2 fetches"},
		{"too small for the process", 32 * MiB, 1, 0, "below the 84 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PlanMemory(tc.max, tc.fetches, chunk)
			if tc.wantErr != "" {
				if !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("PlanMemory(%d MiB, %d) = %+v, %v; want ErrInvalid saying %q", tc.max/MiB, tc.fetches, p, err, tc.wantErr)
				}
				return
			}
			if err != nil || p.Workers != tc.wantWorkers {
				t.Fatalf("PlanMemory(%d MiB, %d) = %+v, %v; want %d writers", tc.max/MiB, tc.fetches, p, err, tc.wantWorkers)
			}
			if p.Bound > tc.max || p.Bound != MemoryBound(tc.fetches, p.Workers, chunk) {
				t.Fatalf("bound %d over max %d, or not the plan's own", p.Bound, tc.max)
			}
			// Go's share leaves room for librados and librbd's copies.
			if p.GoLimit <= 0 || uint64(p.GoLimit) >= tc.max {
				t.Fatalf("Go limit %d for max %d", p.GoLimit, tc.max)
			}
		})
	}
}

func TestApplyPlanSizesBothPaths(t *testing.T) {
	var c RBDConfig
	c.ApplyPlan(MemoryPlan{Workers: 2})
	if c.ImportWorkers != 2 || c.Convert.Workers != 2 {
		t.Fatalf("import %d, convert %d writers; want 2 and 2", c.ImportWorkers, c.Convert.Workers)
	}
}

// TestDefaultMaxMemoryFits: an agent given no bound is never refused, at
// any --max-fetches, and keeps the default writers.
func TestDefaultMaxMemoryFits(t *testing.T) {
	for fetches := 1; fetches <= 16; fetches++ {
		p, err := PlanMemory(DefaultMaxMemory(fetches, 4<<20), fetches, 4<<20)
		if err != nil || p.Workers != DefaultFetchWorkers {
			t.Fatalf("%d fetches: %+v, %v", fetches, p, err)
		}
	}
}
