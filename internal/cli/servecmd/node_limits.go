package servecmd

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/convert"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// nodeLimits are the bounds `serve node` puts on what a caller or the image
// service can make the node do. Every one, when exceeded, is a 4xx naming
// the limit, with nothing left behind.
type nodeLimits struct {
	maxRecord, maxDiskSize byteSize
	maxExpansion           float64
	stall, deadline        time.Duration
}

func (l *nodeLimits) register(f *pflag.FlagSet) {
	l.maxRecord = imageclient.DefaultMaxRecord
	l.maxDiskSize = provisioner.DefaultMaxDiskSize
	f.Var(&l.maxRecord, "max-image-record", "largest image record read from the image service")
	f.Var(&l.maxDiskSize, "max-disk-size", "largest disk (create and resize) and image virtual size")
	f.Float64Var(&l.maxExpansion, "max-expansion", provisioner.DefaultMaxExpansion,
		"bytes a conversion may write, as a factor of the image's stored size (negative: no limit)")
	f.DurationVar(&l.stall, "download-stall-timeout", provisioner.DefaultStallTimeout, "end a download that sends nothing for this long")
	f.DurationVar(&l.deadline, "download-deadline", provisioner.DefaultFetchDeadline, "end a download that has not finished in this long")
}

// apply puts the limits into the provisioner's configuration (the record
// bound goes to the image client: maxRecord.bytes()) and finds the helper
// binaries once, logging where: conversions run them by that path.
func (l nodeLimits) apply(rbd *provisioner.RBDConfig) {
	rbd.Bounds = provisioner.Bounds{MaxDiskSize: uint64(l.maxDiskSize), MaxExpansion: l.maxExpansion,
		StallTimeout: l.stall, FetchDeadline: l.deadline}
	log := slog.Default().With("component", "agent")
	for _, b := range []struct {
		name string
		find func() (string, error)
	}{{"qemu-img", convert.QemuImg}, {"prlimit", convert.Prlimit}} {
		if p, err := b.find(); err != nil {
			log.Warn("helper binary not found; conversions that need it fail", "binary", b.name, "err", err)
		} else {
			log.Info("helper binary", "binary", b.name, "path", p)
		}
	}
}

// byteSize is a flag taking "1MiB", "16TiB" or plain bytes.
type byteSize uint64

func (b *byteSize) bytes() int64   { return int64(*b) }
func (b *byteSize) String() string { return humanize.IBytes(uint64(*b)) }
func (b *byteSize) Type() string   { return "size" }
func (b *byteSize) Set(s string) error {
	n, err := humanize.ParseBytes(s)
	if err != nil || n == 0 {
		return fmt.Errorf("want a positive size such as 1MiB: %q", s)
	}
	*b = byteSize(n)
	return nil
}
