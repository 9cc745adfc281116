package api_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the binary if goroutines outlive the tests: a handler,
// upload or background cleanup that nothing waits for.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
