package agent_test

import (
	"testing"

	"github.com/cowdisk/cowdisk/internal/agent"
)

// stopAtEnd is the internal tests' helper for this package's external
// tests: s.Close when t ends, after the HTTP server in front of it.
func stopAtEnd(t testing.TB, s *agent.Server) *agent.Server {
	t.Cleanup(s.Close)
	return s
}
