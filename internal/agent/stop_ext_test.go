package agent_test

import (
	"testing"

	"github.com/cowdisk/cowdisk/internal/agent"
)

// stopAtEnd closes s when t ends, after the HTTP server in front of it: the
// external tests' twin of stop_test.go's (a test package cannot share it).
func stopAtEnd(t testing.TB, s *agent.Server) *agent.Server {
	t.Cleanup(s.Close)
	return s
}
