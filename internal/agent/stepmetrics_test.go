package agent

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// A new disk's step times reach /metrics, one sample per step (zero for a
// step it did not run); a repeat (200) records none.
func TestStepMetrics(t *testing.T) {
	fb := &fakeBackend{disk: provisioner.Disk{InstanceID: "i1", Name: "disk", Method: provisioner.MethodClone,
		Steps: map[provisioner.Step]time.Duration{provisioner.StepLookup: 3 * time.Millisecond, provisioner.StepClone: 12 * time.Millisecond}}}
	srv := httptest.NewServer(stopAtEnd(t, New(fb, quiet())))
	defer srv.Close()
	post := func() {
		resp, err := http.Post(srv.URL+"/v1/disks", "application/json", strings.NewReader(`{"instance_id":"i1","image_id":"11111111-2222-3333-4444-555555555555"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	post()
	fb.disk.Existed = true
	post()

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		MetricStep + `_count{method="clone",step="lookup"} 1`,
		MetricStep + `_sum{method="clone",step="lookup"} 0.003`,
		MetricStep + `_sum{method="clone",step="clone"} 0.012`,
		MetricStep + `_count{method="clone",step="resize"} 1`,
		MetricStep + `_sum{method="clone",step="publish"} 0`,
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
