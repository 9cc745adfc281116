package servecmd

import (
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

func TestNodeLimitFlags(t *testing.T) {
	parse := func(args ...string) (nodeLimits, error) {
		var l nodeLimits
		fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
		l.register(fs)
		return l, fs.Parse(args)
	}
	l, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	var rbd provisioner.RBDConfig
	l.apply(&rbd)
	want := provisioner.Bounds{MaxDiskSize: provisioner.DefaultMaxDiskSize, MaxExpansion: provisioner.DefaultMaxExpansion,
		StallTimeout: provisioner.DefaultStallTimeout, FetchDeadline: provisioner.DefaultFetchDeadline}
	if rbd.Bounds != want || l.maxRecord.bytes() != imageclient.DefaultMaxRecord {
		t.Fatalf("defaults: %+v, record %d", rbd.Bounds, l.maxRecord.bytes())
	}
	l, err = parse("--max-disk-size", "2TiB", "--max-image-record", "64KiB", "--max-expansion", "-1",
		"--download-stall-timeout", "5s", "--download-deadline", "10m")
	if err != nil {
		t.Fatal(err)
	}
	l.apply(&rbd)
	want = provisioner.Bounds{MaxDiskSize: 2 << 40, MaxExpansion: -1, StallTimeout: 5 * time.Second, FetchDeadline: 10 * time.Minute}
	if rbd.Bounds != want || l.maxRecord.bytes() != 64<<10 {
		t.Fatalf("set: %+v, record %d", rbd.Bounds, l.maxRecord.bytes())
	}
	for _, bad := range [][]string{{"--max-disk-size", "lots"}, {"--max-image-record", "0"}} {
		if _, err := parse(bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
