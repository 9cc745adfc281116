package servecmd

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/dustin/go-humanize"
	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/convert"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// nodeMemory is --max-memory: the resident memory the agent keeps to while
// it downloads and converts images. It is on a hypervisor, where memory
// belongs to guests.
type nodeMemory struct{ max optionalSize }

// optionalSize is a byteSize whose zero means "not set" and is not shown
// as a default in --help.
type optionalSize struct{ byteSize }

func (s *optionalSize) String() string {
	if s.byteSize == 0 {
		return ""
	}
	return s.byteSize.String()
}

func (m *nodeMemory) register(f *pflag.FlagSet) {
	f.Var(&m.max, "max-memory", "resident memory the agent keeps to while it downloads and converts: sizes the "+
		"transfer buffers of the --max-fetches downloads and sets Go's memory limit (default: "+
		humanize.IBytes(provisioner.DefaultMaxMemory(provisioner.DefaultMaxFetches, convert.DefaultChunkSize))+
		" with the default --max-fetches 2, more with more)")
}

// apply sizes the backend's transfers to fit, and sets Go's memory limit so
// garbage is collected before the heap outgrows its share. A bound too small
// for one writer per fetch is refused, saying what would fit. Unset, the
// bound is the default writers' (which always fits), and a GOMEMLIMIT in the
// environment is left to Go.
func (m nodeMemory) apply(rbd *provisioner.RBDConfig) error {
	max := uint64(m.max.byteSize)
	if max == 0 {
		max = provisioner.DefaultMaxMemory(rbd.MaxFetches, convert.DefaultChunkSize)
	}
	plan, err := provisioner.PlanMemory(max, rbd.MaxFetches, convert.DefaultChunkSize)
	if err != nil {
		return fmt.Errorf("--max-memory %s: %w; raise it or lower --max-fetches", m.max.String(), err)
	}
	rbd.ApplyPlan(plan)
	if m.max.byteSize != 0 || os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(plan.GoLimit)
	}
	slog.Default().Info("memory bound", "component", "agent", "max_memory", humanize.IBytes(max),
		"writers_per_fetch", plan.Workers, "transfer_bound", humanize.IBytes(plan.Bound), "go_limit", humanize.IBytes(uint64(plan.GoLimit)))
	return nil
}
