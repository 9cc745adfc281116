package tick

import (
	"context"
	"testing"
	"time"
)

func TestEvery(t *testing.T) {
	for _, c := range []struct {
		name   string
		stopAt int // f returns false on this call; 0: never
		cancel int // the context is cancelled during this call; 0: never
		want   int
	}{
		{"f stops it", 3, 0, 3},
		{"context ends it", 0, 2, 2},
		{"first call stops it", 1, 0, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			calls := 0
			Every(ctx, time.Millisecond, func(ctx context.Context) bool {
				calls++
				if calls == c.cancel {
					cancel()
				}
				return calls != c.stopAt
			})
			if calls != c.want {
				t.Fatalf("%d calls, want %d", calls, c.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	Every(ctx, time.Hour, func(context.Context) bool { t.Fatal("called after the context ended"); return true })
}
