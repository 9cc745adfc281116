package agent

import (
	"context"
	"errors"
	"time"

	"github.com/cowdisk/cowdisk/internal/health"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// startHealth runs the readiness checks in the background until Close:
// "backend" (what a pending server waits for) and, once Ready, the
// backend's own check ("ceph" for rbd: monitors, an OSD and the fsid).
func (s *Server) startHealth() {
	s.m.health = health.New(s.m.healthInterval, s.m.healthTimeout, s.log.With("health", "node"))
	s.m.reg.MustRegister(s.m.health.Collectors("cowdisk_node")...)
	s.m.health.Set("backend", func(context.Context) error {
		if s.ready.Load() == nil {
			return errors.New(*s.starting.Load())
		}
		return nil
	})
	s.m.health.Register(s.mux)
	ctx, cancel := context.WithCancel(context.Background())
	s.m.stopHealth = cancel
	go s.m.health.Run(ctx)
}

// readyHealth adds the backend's check and checks at once, so the server
// reports ready when Ready returns.
func (s *Server) readyHealth(b provisioner.Backend, check func(context.Context) error) {
	if check != nil {
		name := "store"
		if _, ok := b.(*provisioner.RBD); ok {
			name = "ceph"
		}
		s.m.health.Set(name, check)
	}
	s.m.health.CheckNow(context.Background())
}

// WithHealthTiming sets how often the readiness checks run and how long
// each may take (zero: internal/health's defaults).
func WithHealthTiming(interval, timeout time.Duration) Option {
	return func(s *Server) { s.m.healthInterval, s.m.healthTimeout = interval, timeout }
}

// Close stops the background checks.
func (s *Server) Close() {
	if s.m.stopHealth != nil {
		s.m.stopHealth()
	}
}
