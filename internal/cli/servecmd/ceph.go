package servecmd

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/ceph"
)

// cephTimeouts are the librados timeouts both servers take as flags. The
// defaults are internal/ceph's (10 s, 10 s, 30 s), repeated here so --help
// shows them.
type cephTimeouts struct{ mount, mon, osd time.Duration }

// register adds --ceph-mount-timeout, --ceph-mon-timeout and
// --ceph-osd-timeout to f; one place for both servers, so they spell and
// default them alike.
func (t *cephTimeouts) register(f *pflag.FlagSet) {
	f.DurationVar(&t.mount, "ceph-mount-timeout", 10*time.Second, "how long connecting to the monitors may take")
	f.DurationVar(&t.mon, "ceph-mon-timeout", 10*time.Second, "how long one monitor operation may take")
	f.DurationVar(&t.osd, "ceph-osd-timeout", 30*time.Second, "how long one OSD operation may take")
}

// apply puts the timeouts into a connection's config.
func (t cephTimeouts) apply(cfg *ceph.Config) {
	cfg.MountTimeout, cfg.MonOpTimeout, cfg.OSDOpTimeout = t.mount, t.mon, t.osd
}
