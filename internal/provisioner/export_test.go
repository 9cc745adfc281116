package provisioner

import "time"

// SetReapRetries shortens Reap's wait for busy temporaries in tests.
func (b *RBD) SetReapRetries(n int, interval time.Duration) {
	b.reapRetries, b.reapInterval = n, interval
}
