package ceph

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cowdisk/cowdisk/internal/closegate"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// Prober answers "can this server use the cluster now?" cheaply: a monitor
// round trip, an OSD round trip on one pool, and whether the cluster is
// still the one connected to (the fsid ceph.conf names; after a failed
// round trip, the fsid a fresh connection finds). librados calls take no
// context and block up to the op timeouts, so at most one probe runs per
// Prober: a probe that finds the previous one still waiting says so at once
// instead of piling goroutines up behind a stuck cluster.
type Prober struct {
	c        *Cluster
	pool     string
	busy     atomic.Bool
	since    atomic.Int64          // when the running probe started (unix ns)
	replaced atomic.Pointer[error] // set when a fresh connection found another fsid
	running  closegate.Gate        // the probe in flight, which Close waits for
}

// NewProber probes c and, through an OSD, pool ("" skips the OSD check).
func NewProber(c *Cluster, pool string) *Prober { return &Prober{c: c, pool: pool} }

// ErrReplaced means the cluster this process connected to is not the one
// ceph.conf leads to any more; only a new connection (a restart) reaches it.
var ErrReplaced = fmt.Errorf("cluster replaced: %w", errs.ErrUnavailable)

// Probe returns nil when the cluster answered; errors wrap
// errs.ErrUnavailable (ErrReplaced for a replaced cluster).
func (p *Prober) Probe(ctx context.Context) error {
	if err := p.checkFSID(); err != nil {
		return err
	}
	if p.busy.CompareAndSwap(false, true) {
		p.since.Store(time.Now().UnixNano())
		if !p.running.Enter() {
			p.busy.Store(false)
			return fmt.Errorf("cluster %s: prober closed: %w", p.c.FSID(), errs.ErrUnavailable)
		}
		done := make(chan error, 1)
		go func() {
			defer p.running.Leave()
			defer p.busy.Store(false)
			done <- p.run()
		}()
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
		}
	}
	// Still waiting: a verdict a late probe reached says more than "slow".
	if r := p.replaced.Load(); r != nil {
		return *r
	}
	return fmt.Errorf("cluster %s has not answered for %s (%s): %w", p.c.FSID(),
		time.Since(time.Unix(0, p.since.Load())).Round(time.Second), p.targets(), errs.ErrUnavailable)
}

// Close waits for a probe still in a librados call (up to the op or
// mount timeout) and refuses new ones; close it before the Cluster, whose
// connection must not be shut down under a call.
func (p *Prober) Close() error {
	p.running.Close()
	return nil
}

// run is one probe: the round trips and, when they fail, a fresh
// connection to tell a replaced cluster from a down one.
func (p *Prober) run() error {
	err := p.roundTrips()
	if err == nil {
		p.replaced.Store(nil)
		return nil
	}
	fresh, ferr := p.freshFSID()
	if ferr != nil || strings.EqualFold(fresh, p.c.FSID()) {
		return err // down, or the same cluster: the round trips' error says why
	}
	r := fmt.Errorf("connected to fsid %s, which no longer answers, but the monitors %s names answer as fsid %s; "+
		"restart to reconnect: %w", p.c.FSID(), p.confName(), fresh, ErrReplaced)
	p.replaced.Store(&r)
	return r
}

// freshFSID connects anew with this connection's configuration and
// returns the fsid the monitors answer with.
func (p *Prober) freshFSID() (string, error) {
	conn, fsid, err := dial(p.c.cfg)
	if err != nil {
		return "", err
	}
	conn.Shutdown()
	return fsid, nil
}

func (p *Prober) confName() string {
	if p.c.cfg.ConfPath == "" {
		return "ceph.conf"
	}
	return p.c.cfg.ConfPath
}

// targets says what a probe waits on, for the reason an operator reads.
func (p *Prober) targets() string {
	if p.pool == "" {
		return "a monitor"
	}
	return "a monitor, then an OSD of pool " + p.pool
}

// roundTrips asks a monitor (cluster stats) and an OSD (stat of an object
// in the pool: "not found" is an answer too).
func (p *Prober) roundTrips() error {
	what := "cluster " + p.c.FSID()
	if _, err := p.c.s.conn.GetClusterStats(); err != nil {
		return unavailable(translate(err, "ask the monitors of", what))
	}
	// A connection follows whatever monitors answer at its addresses: if
	// they now belong to another cluster, librados carries on with them.
	if now, err := p.c.s.conn.GetFSID(); err == nil && !strings.EqualFold(now, p.c.FSID()) {
		r := fmt.Errorf("connected to fsid %s, but the monitors now answer as fsid %s; restart to reconnect: %w",
			p.c.FSID(), now, ErrReplaced)
		p.replaced.Store(&r)
		return r
	}
	if p.pool == "" {
		return nil
	}
	io, err := p.c.s.conn.OpenIOContext(p.pool)
	if err != nil {
		return unavailable(translate(err, "open", poolSpec(p.pool)))
	}
	defer io.Destroy()
	if _, err := io.Stat("rbd_directory"); err != nil {
		if err = translate(err, "reach an OSD of", poolSpec(p.pool)); !errors.Is(err, errs.ErrNotFound) {
			return unavailable(err)
		}
	}
	return nil
}

func unavailable(err error) error {
	if errors.Is(err, errs.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", errs.ErrUnavailable, err)
}

// checkFSID compares the fsid in the connection's ceph.conf (read afresh:
// an operator who replaced the cluster edits it) with the connected one.
func (p *Prober) checkFSID() error {
	path := p.c.cfg.ConfPath
	if path == "" {
		return nil // librados' search path; nothing to re-read
	}
	want, err := ConfFSID(path)
	if err != nil || want == "" || strings.EqualFold(want, p.c.FSID()) {
		return nil // no fsid named (allowed) or conf unreadable: the round trips tell
	}
	return fmt.Errorf("connected to fsid %s, but %s now names fsid %s; restart to reconnect: %w",
		p.c.FSID(), path, want, ErrReplaced)
}

// maxConfBytes bounds how much of a ceph.conf is read for its fsid.
const maxConfBytes = 1 << 20

// ConfFSID returns the fsid a ceph.conf names ("" if none).
func ConfFSID(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, maxConfBytes))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), "=")
		// Ceph treats spaces, _ and - in option names alike.
		key = strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(key)))
		if ok && key == "fsid" {
			val, _, _ = strings.Cut(val, "#")
			val, _, _ = strings.Cut(val, ";")
			return strings.TrimSpace(val), nil
		}
	}
	return "", sc.Err()
}
