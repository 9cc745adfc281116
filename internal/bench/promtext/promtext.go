// Package promtext reads counters out of a Prometheus text exposition, which
// is how the benchmark learns from the agent's /metrics how many downloads
// and conversions a storm caused, the way an operator's dashboard would.
package promtext

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Sum adds the values of every sample of metric name (all label sets).
// Missing metric is zero: a counter that never moved may not be exported.
// A selector after the name, `name{k="v",k2="v2"}`, keeps only the samples
// whose labels include each pair.
func Sum(r io.Reader, name string) (float64, error) {
	name, sel, _ := strings.Cut(name, "{")
	want := strings.Split(strings.TrimSuffix(sel, "}"), ",")
	var total float64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue // a longer metric name sharing the prefix
		}
		if i := strings.LastIndexByte(rest, '}'); i >= 0 {
			if !hasLabels(rest[:i], want) {
				continue
			}
			rest = rest[i+1:]
		} else if sel != "" {
			continue
		}
		fields := strings.Fields(rest) // value [timestamp]
		if len(fields) == 0 {
			return 0, fmt.Errorf("metric line %q has no value", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, fmt.Errorf("metric line %q: %w", line, err)
		}
		total += v
	}
	return total, sc.Err()
}

// hasLabels tells whether the label set "{k="v",...}" includes every pair
// in want ("" pairs match anything).
func hasLabels(set string, want []string) bool {
	have := strings.Split(strings.TrimPrefix(set, "{"), ",")
	for _, w := range want {
		if w != "" && !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// Scrape fetches url and sums each of names.
func Scrape(ctx context.Context, url string, names ...string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	out := make(map[string]float64, len(names))
	for _, n := range names {
		if out[n], err = Sum(strings.NewReader(string(body)), n); err != nil {
			return nil, fmt.Errorf("scrape %s: %w", url, err)
		}
	}
	return out, nil
}
