package provisioner_test

import (
	"testing"

	"github.com/cowdisk/cowdisk/internal/agent"
)

// stopAtEnd closes the agent s (its background health checks) when t ends:
// after the HTTP server in front of it and before the backend's cluster
// handle, which were set up before it. TestMain's goleak check fails the
// package otherwise.
func stopAtEnd(t testing.TB, s *agent.Server) *agent.Server {
	t.Cleanup(s.Close)
	return s
}
