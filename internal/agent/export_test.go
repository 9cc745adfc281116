package agent

import "time"

// SetRacyWindow changes racyWindow; the func restores it. Tests that use it
// do not run in parallel.
func SetRacyWindow(d time.Duration) func() {
	old := racyWindow
	racyWindow = d
	return func() { racyWindow = old }
}
