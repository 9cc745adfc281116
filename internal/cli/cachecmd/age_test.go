package cachecmd

import (
	"testing"
	"time"
)

func TestAge(t *testing.T) {
	ago := func(d time.Duration) string { return time.Now().Add(-d).UTC().Format(time.RFC3339) }
	for _, c := range []struct{ in, want string }{
		{"", "-"}, {"yesterday", "-"}, {ago(10 * time.Second), "<1m"},
		{ago(3*time.Hour + 5*time.Minute + 30*time.Second), "3h5m"}, {ago(72 * time.Hour), "72h0m"},
	} {
		if got := age(c.in); got != c.want {
			t.Errorf("age(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
