package diskcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/cli/clierr"
	"github.com/cowdisk/cowdisk/internal/cli/clierr/clierrtest"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// runErr runs `cowdisk disk ARGS...` and returns stdout, stderr and the error.
func runErr(args ...string) (string, string, error) {
	cmd := Command()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errb.String(), err
}

func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// hostile answers every request with code and body, after delay (or when
// the client gives up).
func hostile(t *testing.T, delay time.Duration, code int, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(code)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestFriendlyErrors(t *testing.T) {
	down := closedAddr(t)
	cephDown := `{"error":{"code":"unavailable","message":"list disks in vms: rados: timed out"}}`
	notFound := `{"error":{"code":"not_found","message":"disk i/disk: not found"}}`
	for _, c := range []struct {
		name      string
		args      []string
		is        error
		want      []string
		forbidden []string
	}{
		{"no scheme", []string{"ls", "--agent", down}, errs.ErrInvalid,
			[]string{"node agent URL \"" + down + "\" is not an http(s) URL such as http://127.0.0.1:9393", "--agent or COWDISK_AGENT"},
			[]string{"first path segment", "parse "}},
		{"refused", []string{"ls", "--agent", "http://" + down}, syscall.ECONNREFUSED,
			[]string{"cannot reach the node agent at http://" + down, "cowdisk serve node", "--agent or COWDISK_AGENT"}, []string{"Get \""}},
		{"ceph down", []string{"ls", "--agent", hostile(t, 0, 503, cephDown)}, errs.ErrUnavailable,
			[]string{"list disks in vms: rados: timed out (agent: HTTP 503 unavailable)"}, nil},
		{"no answer", []string{"ls", "--timeout", "200ms", "--agent", hostile(t, time.Hour, 200, "")}, context.DeadlineExceeded,
			[]string{"gave up waiting for the node agent", "--timeout"}, nil},
		{"not found once", []string{"show", "i", "--agent", hostile(t, 0, 404, notFound)}, errs.ErrNotFound,
			[]string{"disk i/disk: not found (agent: HTTP 404 not_found)"}, []string{"not found: not found"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := runErr(c.args...)
			clierrtest.Says(t, err, c.is, c.want, c.forbidden)
		})
	}
}

// Errors under --json are JSON on stderr, with nothing on stdout.
func TestJSONErrors(t *testing.T) {
	url := hostile(t, 0, 503, `{"error":{"code":"unavailable","message":"ceph: timed out"}}`)
	for _, args := range [][]string{{"ls"}, {"rm", "i"}, {"xml", "i"}, {"create", "--instance", "i", "--image", "m"}} {
		out, stderr, err := runErr(append(args, "--json", "--agent", url)...)
		var body struct {
			Error struct{ Code, Message string }
		}
		if err == nil || !clierr.IsReported(err) || out != "" || json.Unmarshal([]byte(stderr), &body) != nil ||
			body.Error.Code != "unavailable" || !strings.Contains(body.Error.Message, "ceph: timed out") {
			t.Errorf("%v: err %v, stdout %q, stderr %q", args, err, out, stderr)
		}
	}
}

func TestProgressLine(t *testing.T) {
	first := agent.Stats{Downloads: 3, BytesDownloaded: 1000, BytesToDownload: 1000}
	for _, c := range []struct {
		now  agent.Stats
		want string
	}{
		{first, "creating disk (2s)"},
		{agent.Stats{Downloads: 4, BytesDownloaded: 1000 + 10<<20, BytesToDownload: 1000 + 40<<20}, "fallback import: downloading 10 MiB / 40 MiB (25%, 2s)"},
		{agent.Stats{Downloads: 4, BytesDownloaded: 1000 + 5<<20, BytesToDownload: 1000}, "fallback import: downloading 5 MiB of unknown size (2s)"},
		{agent.Stats{Downloads: 4, BytesDownloaded: 1000 + 40<<20, BytesToDownload: 1000 + 40<<20, BytesToConvert: 1 << 30, BytesConverted: 256 << 20},
			"fallback import: converting 256 MiB / 1 GiB (25%, 2s)"},
		{agent.Stats{Downloads: 4, BytesDownloaded: 1000 + 40<<20, BytesToDownload: 1000 + 40<<20, BytesToConvert: 1 << 30, BytesConverted: 1 << 30},
			"fallback import: downloaded 40 MiB, finishing the disk (2s)"},
		{agent.Stats{Downloads: 4, BytesDownloaded: 1000 + 40<<20, BytesToDownload: 1000 + 40<<20}, "fallback import: downloaded 40 MiB, finishing the disk (2s)"},
	} {
		if got := progressLine(first, c.now, 2*time.Second); got != c.want {
			t.Errorf("progressLine(%+v) = %q, want %q", c.now, got, c.want)
		}
	}
}
