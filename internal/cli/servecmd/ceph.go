package servecmd

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// defaultCephConf is where Ceph's own tools look when nothing names a
// ceph.conf; a variable so tests can point it elsewhere.
var defaultCephConf = "/etc/ceph/ceph.conf"

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

// cephConn is how a server reaches Ceph: the same flags on both servers.
type cephConn struct {
	conf, user, keyring string
	timeouts            cephTimeouts
}

func (c *cephConn) register(f *pflag.FlagSet) {
	f.StringVar(&c.conf, "ceph-conf", "", "ceph.conf (default: env CEPH_CONF, else "+defaultCephConf+")")
	f.StringVar(&c.user, "ceph-user", "", "cephx user without client. (default: env CEPH_USER, else admin)")
	f.StringVar(&c.keyring, "ceph-keyring", "", "keyring of --ceph-user (default: env CEPH_KEYRING, else ceph.conf's keyring)")
	c.timeouts.register(f)
}

// config resolves the connection as Ceph's tools do: flag, then CEPH_*
// variables, then /etc/ceph/ceph.conf. A ceph.conf that cannot be read is
// a configuration error no retry fixes, so it fails here, naming the file
// and where its name came from, instead of the server retrying forever.
func (c cephConn) config() (ceph.Config, error) {
	cfg := ceph.ConfigFromEnv()
	from := "--ceph-conf"
	switch {
	case c.conf != "":
		cfg.ConfPath = c.conf
	case cfg.ConfPath != "":
		from = "CEPH_CONF"
	default:
		cfg.ConfPath, from = defaultCephConf, "the default, as neither --ceph-conf nor CEPH_CONF is set"
	}
	if c.user != "" {
		cfg.User = c.user
	}
	if c.keyring != "" {
		cfg.Keyring = c.keyring
	}
	c.timeouts.apply(&cfg)
	f, err := os.Open(cfg.ConfPath)
	if err != nil {
		return cfg, fmt.Errorf("ceph.conf %s (%s): %w: %w", cfg.ConfPath, from, errs.ErrInvalid, err)
	}
	f.Close()
	return cfg, nil
}
