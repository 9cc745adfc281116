package clierr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/errs"
)

var svc = Service{What: "node agent", URL: func() string { return "http://127.0.0.1:1" }, Flags: "--agent", Start: "cowdisk serve node"}

// A call that hangs says what it waits for, then gives up at --timeout.
func TestSlowCallNoticeAndTimeout(t *testing.T) {
	old := noticeAfter
	noticeAfter = 10 * time.Millisecond
	defer func() { noticeAfter = old }()
	var asJSON bool
	group := &cobra.Command{Use: "disk"}
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	group.AddCommand(&cobra.Command{Use: "ls", RunE: func(cmd *cobra.Command, _ []string) error {
		req, _ := http.NewRequestWithContext(cmd.Context(), http.MethodGet, hang.URL, nil)
		_, err := http.DefaultClient.Do(req)
		return fmt.Errorf("list: %w", err)
	}})
	Install(group, &asJSON, svc)
	var stderr bytes.Buffer
	group.SetErr(&stderr)
	group.SetArgs([]string{"ls", "--timeout", "300ms"})
	err := group.Execute()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "gave up waiting for the node agent at http://127.0.0.1:1") {
		t.Fatalf("err = %v", err)
	}
	if want := "still waiting for the node agent at http://127.0.0.1:1 to answer (Ceph may be slow or down); giving up after 300ms"; !strings.Contains(stderr.String(), want) {
		t.Fatalf("stderr %q lacks %q", stderr.String(), want)
	}
}

type coded struct{ error }

func (coded) ErrorCode() string { return "image_service" }

func TestCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("x: %w", errs.ErrNotFound), "not_found"},
		{fmt.Errorf("x: %w", errs.ErrTooSmall), "invalid"},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), "timeout"},
		{coded{errs.ErrUnavailable}, "image_service"},
		{errors.New("plain"), "error"},
	} {
		if got := Code(c.err); got != c.want {
			t.Errorf("Code(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// A download whose answer flows is not "waiting", however long it takes.
func TestFlowingAnswerIsQuiet(t *testing.T) {
	old := noticeAfter
	noticeAfter = 200 * time.Millisecond
	defer func() { noticeAfter = old }()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 6 {
			w.Write([]byte("chunk"))
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
	}))
	defer slow.Close()
	var asJSON bool
	group := &cobra.Command{Use: "image"}
	group.AddCommand(&cobra.Command{Use: "download", Annotations: map[string]string{Long: ""},
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, _ := http.NewRequestWithContext(cmd.Context(), http.MethodGet, slow.URL, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.Copy(io.Discard, resp.Body)
			return err
		}})
	Install(group, &asJSON, svc)
	var stderr bytes.Buffer
	group.SetErr(&stderr)
	group.SetArgs([]string{"download"})
	if err := group.Execute(); err != nil || stderr.Len() != 0 {
		t.Fatalf("err %v, stderr %q", err, stderr.String())
	}
}

// Mistakes cobra finds before RunE are JSON too when --json was given.
func TestPrintUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"show", "--json"}, `{"error":{"code":"invalid","message":"accepts 1 arg(s), received 0"}}` + "\n"},
		{[]string{"show"}, "cowdisk: accepts 1 arg(s), received 0\n"},
		{[]string{"show", "x", "--json"}, `{"error":{"code":"not_found","message":"x: not found"}}` + "\n"},
	} {
		var asJSON bool
		group := &cobra.Command{Use: "disk"}
		group.PersistentFlags().BoolVar(&asJSON, "json", false, "")
		group.AddCommand(&cobra.Command{Use: "show", Args: cobra.ExactArgs(1), RunE: func(_ *cobra.Command, args []string) error {
			return fmt.Errorf("%s: %w", args[0], errs.ErrNotFound)
		}})
		Install(group, &asJSON, svc)
		group.SetArgs(c.args)
		var stderr bytes.Buffer // the RunE wrapper and Print write to it, once in all
		group.SetErr(&stderr)
		failed, err := group.ExecuteC()
		Print(&stderr, failed, err)
		if stderr.String() != c.want {
			t.Errorf("%v: %q, want %q", c.args, stderr.String(), c.want)
		}
	}
}
