// Package health is what both servers answer on /livez, /readyz and
// /healthz: checks run in the background on an interval, each bounded by a
// timeout, so a probe is answered at once from the last result and never
// waits on a stuck cluster.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults: a probe result is at most Interval+Timeout old.
const (
	DefaultInterval = 5 * time.Second
	DefaultTimeout  = 3 * time.Second
)

// Report is the body of every health answer of both servers.
type Report struct {
	Status  string    `json:"status"`            // "ok" or "unavailable"
	Reasons []string  `json:"reasons,omitempty"` // why not ready, one per failing check
	Checked time.Time `json:"checked,omitzero"`  // when the checks last ran
}

// Check reports whether one thing the server needs works; its error is the
// reason shown. It must respect ctx or return soon after it ends.
type Check func(ctx context.Context) error

// Monitor runs the checks and keeps the last report.
type Monitor struct {
	interval, timeout time.Duration
	log               *slog.Logger
	mu                sync.Mutex
	checks            map[string]Check
	failing           map[string]bool // last outcome per check, for the gauges and state-change logs
	last              atomic.Pointer[Report]
	wake              chan struct{}
	stopOn            func(error) bool // see StopOn
	stop              chan error
}

// New makes a monitor; zero interval or timeout take the defaults.
func New(interval, timeout time.Duration, log *slog.Logger) *Monitor {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if log == nil {
		log = slog.Default()
	}
	m := &Monitor{interval: interval, timeout: timeout, log: log, checks: map[string]Check{},
		failing: map[string]bool{}, wake: make(chan struct{}, 1)}
	m.last.Store(&Report{Status: "unavailable", Reasons: []string{"starting: not checked yet"}})
	return m
}

// Set adds or replaces the check called name (e.g. "ceph" once connected)
// and has the monitor check again soon.
func (m *Monitor) Set(name string, c Check) {
	m.mu.Lock()
	m.checks[name] = c
	m.mu.Unlock()
	m.Poke()
}

// Poke has the monitor check again soon (a state it reads changed).
func (m *Monitor) Poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Run checks now and then every interval (or when a check is Set) until
// ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		m.CheckNow(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.wake:
		}
	}
}

// CheckNow runs every check at once, each bounded by the timeout, and
// stores and returns the report.
func (m *Monitor) CheckNow(ctx context.Context) Report {
	m.mu.Lock()
	checks := make(map[string]Check, len(m.checks))
	for n, c := range m.checks {
		checks[n] = c
	}
	m.mu.Unlock()
	errs := make(map[string]error, len(checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := m.run(ctx, c)
			mu.Lock()
			errs[name] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	if ctx.Err() != nil { // stopping: the results say nothing about the checks
		return m.Last()
	}
	r := m.record(errs)
	m.last.Store(&r)
	return r
}

// run bounds one check by the timeout even if it ignores ctx.
func (m *Monitor) run(ctx context.Context, c Check) error {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return ctx.Err()
		}
		return fmt.Errorf("no answer within %s", m.timeout)
	}
}

// record builds the report and logs each check that changed state.
func (m *Monitor) record(errs map[string]error) Report {
	r := Report{Status: "ok", Checked: time.Now().UTC()}
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, err := range errs {
		if err != nil {
			r.Reasons = append(r.Reasons, name+": "+err.Error())
			if m.stopOn != nil && m.stopOn(err) {
				m.stop <- fmt.Errorf("%s: %w", name, err) // buffered; sent once
				m.stopOn = nil
			}
			if !m.failing[name] {
				m.log.Warn("not ready", "check", name, "err", err)
			}
		} else if m.failing[name] {
			m.log.Info("ready again", "check", name)
		}
		m.failing[name] = err != nil
	}
	if len(r.Reasons) > 0 {
		r.Status = "unavailable"
		sort.Strings(r.Reasons)
	}
	return r
}

// StopOn returns a channel that receives the first check error for which
// is says yes: a condition no waiting fixes (a replaced cluster), on which
// the server chooses to exit so that its supervisor starts it afresh.
// Call it before Run.
func (m *Monitor) StopOn(is func(error) bool) <-chan error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopOn, m.stop = is, make(chan error, 1)
	return m.stop
}

// Last is the latest report.
func (m *Monitor) Last() Report { return *m.last.Load() }

// Register adds /livez (the process answers), /readyz (the last report;
// 503 unless ok) and /healthz (an alias of /readyz) to mux.
func (m *Monitor) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		write(w, Report{Status: "ok", Checked: time.Now().UTC()})
	})
	ready := func(w http.ResponseWriter, _ *http.Request) { write(w, m.Last()) }
	mux.HandleFunc("GET /readyz", ready)
	mux.HandleFunc("GET /healthz", ready)
}

func write(w http.ResponseWriter, r Report) {
	code := http.StatusOK
	if r.Status != "ok" {
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(r)
}

// Collectors are the monitor's gauges: <prefix>_ready (1 when every check
// passed) and <prefix>_check_ok{check} (1 per passing check), read at
// scrape time from the last run.
func (m *Monitor) Collectors(prefix string) []prometheus.Collector {
	ready := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: prefix + "_ready",
		Help: "1 when every readiness check passed at the last run, else 0."}, func() float64 {
		if m.Last().Status == "ok" {
			return 1
		}
		return 0
	})
	return []prometheus.Collector{ready, &checkCollector{m: m, desc: prometheus.NewDesc(prefix+"_check_ok",
		"1 when the readiness check passed at the last run, else 0.", []string{"check"}, nil)}}
}

type checkCollector struct {
	m    *Monitor
	desc *prometheus.Desc
}

func (c *checkCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *checkCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	for name, failing := range c.m.failing {
		v := 1.0
		if failing {
			v = 0
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, name)
	}
}
