package agent

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

func TestPruneOptions(t *testing.T) {
	for _, c := range []struct {
		query string
		want  provisioner.PruneOptions
		bad   bool
	}{
		{"", provisioner.PruneOptions{}, false},
		{"dry_run=true", provisioner.PruneOptions{DryRun: true}, false},
		{"dry_run=false&older_than=72h", provisioner.PruneOptions{OlderThan: 72 * time.Hour}, false},
		{"dry_run=yes", provisioner.PruneOptions{}, true},
		{"older_than=3d", provisioner.PruneOptions{}, true},
		{"older_than=-1h", provisioner.PruneOptions{}, true},
		{"older_than=100000h", provisioner.PruneOptions{}, true},
		{"force=1", provisioner.PruneOptions{}, true},
	} {
		q, _ := url.ParseQuery(c.query)
		got, err := pruneOptions(q)
		if c.bad != errors.Is(err, errs.ErrInvalid) || (!c.bad && got != c.want) {
			t.Errorf("%q: %+v %v", c.query, got, err)
		}
	}
}
