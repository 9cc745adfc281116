package imagesvc

import (
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// A service started again under the same address and catalog is the same
// replica (its own leases are dead at start); two replicas differ.
func TestDefaultReplica(t *testing.T) {
	a := Config{Listen: "127.0.0.1:9292", DB: "/var/lib/c.db"}
	if defaultReplica(a) != defaultReplica(a) {
		t.Error("the same service got two names")
	}
	b := a
	b.Listen = "127.0.0.1:9293"
	if defaultReplica(a) == defaultReplica(b) {
		t.Error("two replicas on one host share a name")
	}
	e := Config{Listen: "127.0.0.1:0", DB: "x"}
	if defaultReplica(e) == defaultReplica(e) {
		t.Error("an ephemeral port gave a lasting name")
	}
}

func TestLeaseDead(t *testing.T) {
	live := catalog.Lease{Owner: "r1", Until: time.Now().Add(time.Minute)}
	gone := catalog.Lease{Owner: "r2", Until: time.Now().Add(-time.Second)}
	for _, c := range []struct {
		l    catalog.Lease
		self string
		dead bool
	}{{live, "", false}, {live, "r2", false}, {live, "r1", true}, {gone, "", true}, {catalog.Lease{}, "", true}} {
		if got := leaseDead(c.l, c.self); got != c.dead {
			t.Errorf("leaseDead(%+v, %q) = %v", c.l, c.self, got)
		}
	}
}
