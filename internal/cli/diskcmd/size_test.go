package diskcmd

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// Friction 1 of issue 13: "--size 10G" made a decimal 10 GB disk, "--size 10"
// meant bytes and "--size -1" showed strconv's text. Refusals must name the
// expected form and never reach the agent.
func TestSizeFlag(t *testing.T) {
	var calls atomic.Int32
	var body strings.Builder
	agentSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		b := make([]byte, 4096)
		n, _ := r.Body.Read(b)
		body.Reset()
		body.Write(b[:n])
		http.Error(w, `{"error":{"code":"bad_request","message":"stop here"}}`, http.StatusBadRequest)
	}))
	defer agentSrv.Close()
	for _, c := range []struct {
		args    []string
		refused string // "" means the request must reach the agent
		sent    string
	}{
		{[]string{"create", "--instance", "i", "--image", "m", "--size", "10"}, "want a number with a unit", ""},
		{[]string{"create", "--instance", "i", "--image", "m", "--size", "-1"}, "want a number with a unit", ""},
		{[]string{"create", "--instance", "i", "--image", "m", "--size", "10GB"}, "unknown unit", ""},
		{[]string{"resize", "i", "--size", "5"}, "want a number with a unit", ""},
		{[]string{"create", "--instance", "i", "--image", "m", "--size", "10G"}, "", `"size_bytes":10737418240`},
		{[]string{"resize", "i", "--size", "1.5T"}, "", `"size_bytes":1649267441664`},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			before := calls.Load()
			cmd := Command()
			cmd.SetArgs(append(c.args, "--agent", agentSrv.URL))
			cmd.SetOut(&strings.Builder{})
			cmd.SetErr(&strings.Builder{})
			err := cmd.Execute()
			if c.refused != "" {
				if err == nil || !strings.Contains(err.Error(), c.refused) || calls.Load() != before {
					t.Fatalf("err = %v, agent calls %d; want refusal %q before any call", err, calls.Load()-before, c.refused)
				}
				return
			}
			if calls.Load() == before || !strings.Contains(body.String(), c.sent) {
				t.Fatalf("agent got %q (err %v); want %s", body.String(), err, c.sent)
			}
		})
	}
}
