package agent

import "testing"

// stopAtEnd closes s (its background health checks) when t ends, after the
// HTTP server in front of it, which the test closes first (defer runs
// before t.Cleanup). TestMain's goleak check fails the package otherwise.
func stopAtEnd(t testing.TB, s *Server) *Server {
	t.Cleanup(s.Close)
	return s
}
