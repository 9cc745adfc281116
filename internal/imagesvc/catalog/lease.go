package catalog

import "time"

// Lease says which replica is running a long status change on an image
// (an upload: saving; a delete: pending_delete) and until when. The owner
// renews it while it works; once it has expired the owner is taken to be
// dead, and any replica's sweep may undo or finish its work. A replica
// starting up thus never touches what a live one is doing.
type Lease struct {
	Owner string    // replica id; "" when none
	Until time.Time // expiry
	// PrevStatus is the status before the change, for undoing it (a
	// delete the store refuses puts the image back as it was).
	PrevStatus string
}

// Take starts or renews owner's lease for ttl from now.
func (l *Lease) Take(owner string, ttl time.Duration, prev string) {
	*l = Lease{Owner: owner, Until: time.Now().Add(ttl).UTC(), PrevStatus: prev}
}

// Expired says no live replica holds the lease at now.
func (l Lease) Expired(now time.Time) bool { return l.Owner == "" || now.After(l.Until) }

// HeldBy says owner holds the lease.
func (l Lease) HeldBy(owner string) bool { return l.Owner != "" && l.Owner == owner }
