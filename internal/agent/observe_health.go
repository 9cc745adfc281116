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
	s.m.stopHealth, s.m.healthDone = cancel, make(chan struct{})
	go func() {
		defer close(s.m.healthDone)
		s.m.health.Run(ctx)
	}()
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

// StopOn returns a channel that receives the first readiness failure for
// which is says yes (see health.Monitor.StopOn).
func (s *Server) StopOn(is func(error) bool) <-chan error { return s.m.health.StopOn(is) }

// Close stops the background checks and waits for them and for a cache
// listing a scrape started: call it after serving and before closing the
// backend's Ceph connection. The backend's own check (a ceph.Prober) is
// the caller's to close. Calling it twice is harmless.
func (s *Server) Close() {
	s.m.stopHealth()
	<-s.m.healthDone
	if s.m.cache != nil {
		s.m.cache.running.Close()
	}
}
