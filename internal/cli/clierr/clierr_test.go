package clierr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	group.AddCommand(&cobra.Command{Use: "ls", RunE: func(cmd *cobra.Command, _ []string) error {
		<-cmd.Context().Done()
		return fmt.Errorf("list: %w", cmd.Context().Err())
	}})
	Install(group, &asJSON, svc)
	var stderr bytes.Buffer
	group.SetErr(&stderr)
	group.SetArgs([]string{"ls", "--timeout", "300ms"})
	err := group.Execute()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "gave up waiting for the node agent at http://127.0.0.1:1") {
		t.Fatalf("err = %v", err)
	}
	if want := "still waiting for the node agent at http://127.0.0.1:1 (Ceph may be slow or down); giving up after 300ms"; !strings.Contains(stderr.String(), want) {
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
