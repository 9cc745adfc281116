package provisioner

import "time"

// SetReapRetries shortens Reap's wait for busy temporaries in tests.
func (b *RBD) SetReapRetries(n int, interval time.Duration) {
	b.reapRetries, b.reapInterval = n, interval
}

// LocalLeftovers lists every file in a local backend's directory that is
// not a published base, disk or owner sidecar: what a failure left behind.
// With bases true, published bases count too.
func LocalLeftovers(dir string, bases bool) []string { return localLeftovers(dir, bases) }
