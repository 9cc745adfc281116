package agent

import (
	"context"
	"errors"

	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// startHealth runs the readiness checks in the background until Close:
// "backend" (what a pending server waits for) and, once Ready, the
// backend's own check ("ceph" for rbd: monitors, an OSD and the fsid).
func (s *Server) startHealth() {
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

// Close stops the background checks.
func (s *Server) Close() {
	if s.m.stopHealth != nil {
		s.m.stopHealth()
	}
}
