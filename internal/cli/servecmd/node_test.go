package servecmd

import (
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/ceph"
)

func TestCephTimeoutFlags(t *testing.T) {
	f := NodeCommand().Flags()
	if err := f.Parse([]string{"--ceph-osd-timeout", "4s"}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"ceph-mount-timeout": "10s", "ceph-mon-timeout": "10s", "ceph-osd-timeout": "4s"} {
		if got := f.Lookup(name).Value.String(); got != want {
			t.Errorf("serve node --%s = %s, want %s", name, got, want)
		}
	}
	var ct cephTimeouts
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	ct.register(fs)
	if err := fs.Parse([]string{"--ceph-mount-timeout", "2s"}); err != nil {
		t.Fatal(err)
	}
	var cfg ceph.Config
	ct.apply(&cfg)
	if cfg.MountTimeout != 2*time.Second || cfg.MonOpTimeout != 10*time.Second || cfg.OSDOpTimeout != 30*time.Second {
		t.Errorf("config %+v", cfg)
	}
}
