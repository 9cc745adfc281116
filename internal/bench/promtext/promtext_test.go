package promtext

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const exposition = `# HELP cowdisk_image_downloads_total Image downloads started by the fallback.
# TYPE cowdisk_image_downloads_total counter
cowdisk_image_downloads_total 3
cowdisk_image_downloads_total_extra 100
cowdisk_disks_created_total{method="base-clone"} 31
cowdisk_disks_created_total{method="import",note="a } brace"} 1
cowdisk_disks_created_total{method="clone"} 2 1700000000000
cowdisk_image_conversions_total 1e+00
`

func TestSum(t *testing.T) {
	tests := []struct {
		name string
		want float64
	}{
		{"cowdisk_image_downloads_total", 3},
		{"cowdisk_disks_created_total", 34},
		{"cowdisk_image_conversions_total", 1},
		{"cowdisk_missing_total", 0},
		{`cowdisk_disks_created_total{method="clone"}`, 2},
		{`cowdisk_disks_created_total{method="base-clone"}`, 31},
		{`cowdisk_disks_created_total{method="import",note="a } brace"}`, 1},
		{`cowdisk_disks_created_total{method="nope"}`, 0},
		{`cowdisk_image_downloads_total{method="clone"}`, 0}, // unlabelled: no match
	}
	for _, tt := range tests {
		got, err := Sum(strings.NewReader(exposition), tt.name)
		if err != nil || got != tt.want {
			t.Errorf("Sum(%s) = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	if _, err := Sum(strings.NewReader("x_total abc\n"), "x_total"); err == nil {
		t.Error("bad value accepted")
	}
}

func TestScrape(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(exposition)) }))
	defer srv.Close()
	got, err := Scrape(context.Background(), srv.URL, "cowdisk_image_downloads_total", "cowdisk_image_conversions_total")
	if err != nil || got["cowdisk_image_downloads_total"] != 3 || got["cowdisk_image_conversions_total"] != 1 {
		t.Fatalf("Scrape = %v, %v", got, err)
	}
}
