package ceph

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ceph/go-ceph/rados"
	"github.com/ceph/go-ceph/rbd"
)

// newPoolPGs is the placement-group count of a pool made by CreatePool.
// Pools made here are for the dev cluster and tests, where one OSD carries
// every pool and the monitor refuses more than 250 PGs per OSD; on a real
// cluster the PG autoscaler grows a pool as it fills.
const newPoolPGs = 8

// monCommand runs one monitor command given as a JSON object.
func (c *Cluster) monCommand(ctx context.Context, what string, cmd map[string]any) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	args, err := json.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	out, status, err := c.s.conn.MonCommand(args)
	if err != nil {
		return nil, translate(fmt.Errorf("%w: %s", err, strings.TrimSpace(status)), cmd["prefix"].(string), what)
	}
	return out, nil
}

// CreatePool creates pool for RBD: the pool itself, the "rbd" application
// tag (without it the cluster warns and some tools refuse the pool), and
// the RBD pool header. A pool that exists already is fine.
func (c *Cluster) CreatePool(ctx context.Context, pool string) error {
	what := poolSpec(pool)
	steps := []map[string]any{
		{"prefix": "osd pool create", "pool": pool, "pg_num": newPoolPGs, "pgp_num": newPoolPGs},
		{"prefix": "osd pool application enable", "pool": pool, "app": "rbd", "yes_i_really_mean_it": true},
	}
	for _, cmd := range steps {
		if _, err := c.monCommand(ctx, what, cmd); err != nil {
			return err
		}
	}
	return c.withPool(ctx, pool, func(io *rados.IOContext) error {
		return translate(rbd.PoolInit(io, false), "init rbd in", what)
	})
}

// MonitorAddrs lists the monitors as "host:port", the form libvirt's
// <host name= port=> elements need. The v1 address is preferred because
// every client speaks it; a monitor with only v2 is listed by its v2 one.
func (c *Cluster) MonitorAddrs(ctx context.Context) ([]string, error) {
	out, err := c.monCommand(ctx, "monitors", map[string]any{"prefix": "mon dump", "format": "json"})
	if err != nil {
		return nil, err
	}
	return parseMonDump(out)
}

type monDump struct {
	Mons []struct {
		Name        string `json:"name"`
		PublicAddrs struct {
			Addrvec []struct{ Type, Addr string } `json:"addrvec"`
		} `json:"public_addrs"`
	} `json:"mons"`
}

func parseMonDump(out []byte) ([]string, error) {
	var d monDump
	if err := json.Unmarshal(out, &d); err != nil {
		return nil, fmt.Errorf("ceph: parse mon dump: %w", err)
	}
	var addrs []string
	for _, m := range d.Mons {
		best := ""
		for _, a := range m.PublicAddrs.Addrvec {
			if best == "" || a.Type == "v1" {
				best = a.Addr
			}
		}
		if best != "" {
			addrs = append(addrs, best)
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("ceph: mon dump lists no monitor address")
	}
	return addrs, nil
}
