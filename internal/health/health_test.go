package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func get(t *testing.T, mux *http.ServeMux, path string) (int, Report) {
	t.Helper()
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	var r Report
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("%s: %v: %q", path, err, rec.Body)
	}
	return rec.Code, r
}

func TestMonitor(t *testing.T) {
	hung := make(chan struct{})
	defer close(hung)
	for _, tc := range []struct {
		name    string
		checks  map[string]Check
		code    int
		reasons []string
	}{
		{"no checks", nil, 200, nil},
		{"all pass", map[string]Check{"a": func(context.Context) error { return nil }}, 200, nil},
		{"one fails", map[string]Check{"a": func(context.Context) error { return nil },
			"ceph": func(context.Context) error { return errors.New("mon down") }}, 503, []string{"ceph: mon down"}},
		{"check ignoring ctx is cut at the timeout", map[string]Check{"stuck": func(context.Context) error { <-hung; return nil }},
			503, []string{"stuck: no answer within 50ms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New(time.Hour, 50*time.Millisecond, slog.New(slog.DiscardHandler))
			mux := http.NewServeMux()
			m.Register(mux)
			if code, r := get(t, mux, "/readyz"); code != 503 || !strings.Contains(strings.Join(r.Reasons, ""), "not checked") {
				t.Errorf("before the first check: %d %+v", code, r)
			}
			for n, c := range tc.checks {
				m.Set(n, c)
			}
			m.CheckNow(context.Background())
			for _, path := range []string{"/readyz", "/healthz"} {
				code, r := get(t, mux, path)
				if code != tc.code || strings.Join(r.Reasons, "|") != strings.Join(tc.reasons, "|") || r.Checked.IsZero() {
					t.Errorf("%s: %d %+v, want %d %v", path, code, r, tc.code, tc.reasons)
				}
			}
			if code, r := get(t, mux, "/livez"); code != 200 || r.Status != "ok" {
				t.Errorf("/livez: %d %+v", code, r)
			}
			reg := prometheus.NewRegistry()
			reg.MustRegister(m.Collectors("x")...)
			want := 1.0
			if tc.code != 200 {
				want = 0
			}
			if got := testutil.ToFloat64(m.Collectors("x")[0]); got != want {
				t.Errorf("x_ready = %v, want %v", got, want)
			}
			if n, err := testutil.GatherAndCount(reg, "x_check_ok"); err != nil || n != len(tc.checks) {
				t.Errorf("x_check_ok series %d, %v; want %d", n, err, len(tc.checks))
			}
		})
	}
}

// TestRunFollowsState: Run re-checks when poked, so readiness follows a
// state change without waiting for the interval.
func TestRunFollowsState(t *testing.T) {
	m := New(time.Hour, time.Second, slog.New(slog.DiscardHandler))
	var down = true
	state := make(chan bool, 1)
	state <- down
	m.Set("thing", func(context.Context) error {
		d := <-state
		state <- d
		if d {
			return errors.New("down")
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	waitStatus(t, m, "unavailable")
	<-state
	state <- false
	m.Poke()
	waitStatus(t, m, "ok")
}

func waitStatus(t *testing.T, m *Monitor, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); m.Last().Status != want || m.Last().Checked.IsZero(); {
		if time.Now().After(deadline) {
			t.Fatalf("status %+v, want %s", m.Last(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStopOn: only a matching failure is delivered, once.
func TestStopOn(t *testing.T) {
	fatal := errors.New("replaced")
	m := New(time.Hour, time.Second, slog.New(slog.DiscardHandler))
	stop := m.StopOn(func(err error) bool { return errors.Is(err, fatal) })
	m.Set("slow", func(context.Context) error { return errors.New("slow") })
	m.CheckNow(context.Background())
	select {
	case err := <-stop:
		t.Fatalf("delivered a non-matching failure: %v", err)
	default:
	}
	m.Set("ceph", func(context.Context) error { return fmt.Errorf("cluster: %w", fatal) })
	m.CheckNow(context.Background())
	m.CheckNow(context.Background())
	if err := <-stop; !errors.Is(err, fatal) || !strings.HasPrefix(err.Error(), "ceph: ") {
		t.Errorf("delivered %v", err)
	}
	select {
	case err := <-stop:
		t.Errorf("delivered twice: %v", err)
	default:
	}
}
