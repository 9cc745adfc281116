package ceph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ceph/go-ceph/rbd"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// fakeCephError looks like a go-ceph error: it carries a negative errno.
type fakeCephError int

func (e fakeCephError) Error() string  { return fmt.Sprintf("rbd: ret=%d", int(e)) }
func (e fakeCephError) ErrorCode() int { return int(e) }

func TestTranslate(t *testing.T) {
	for _, tc := range []struct {
		in   error
		want error
	}{
		{fakeCephError(-int(syscall.ENOENT)), errs.ErrNotFound},
		{rbd.ErrNotFound, errs.ErrNotFound},
		{fakeCephError(-int(syscall.EEXIST)), errs.ErrExists},
		{fakeCephError(-int(syscall.EBUSY)), errs.ErrBusy},
		{fakeCephError(-int(syscall.ENOTEMPTY)), errs.ErrInUse},
		{fakeCephError(-int(syscall.EPERM)), errs.ErrPermission},
		{fakeCephError(-int(syscall.EACCES)), errs.ErrPermission},
		{fakeCephError(-int(syscall.ETIMEDOUT)), errs.ErrTimeout},
		{fakeCephError(-int(syscall.EINVAL)), errs.ErrInvalid},
		{fakeCephError(-int(syscall.ENOTCONN)), errs.ErrUnavailable},
		{fmt.Errorf("wrapped: %w", fakeCephError(-int(syscall.EBUSY))), errs.ErrBusy},
		{fakeCephError(-int(syscall.EIO)), nil},
		{errors.New("plain"), nil},
	} {
		got := translate(tc.in, "open", imageSpec("p", "i"))
		if tc.want != nil && !errors.Is(got, tc.want) {
			t.Errorf("translate(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !errors.Is(got, tc.in) {
			t.Errorf("translate(%v) = %v lost the original error", tc.in, got)
		}
		if !strings.Contains(got.Error(), "image p/i") {
			t.Errorf("translate(%v) = %q does not name the image", tc.in, got)
		}
	}
	if translate(nil, "x", "y") != nil {
		t.Error("translate(nil) != nil")
	}
}

func TestParseMonDump(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		bad      bool
	}{
		{"v1 preferred", `{"mons":[{"name":"a","public_addrs":{"addrvec":[{"type":"v2","addr":"10.0.0.1:3300"},{"type":"v1","addr":"10.0.0.1:6789"}]}}]}`, []string{"10.0.0.1:6789"}, false},
		{"v2 only", `{"mons":[{"name":"a","public_addrs":{"addrvec":[{"type":"v2","addr":"10.0.0.1:3300"}]}}]}`, []string{"10.0.0.1:3300"}, false},
		{"three mons", `{"mons":[{"public_addrs":{"addrvec":[{"type":"v1","addr":"h1:1"}]}},{"public_addrs":{"addrvec":[{"type":"v1","addr":"h2:1"}]}},{"public_addrs":{"addrvec":[{"type":"v1","addr":"h3:1"}]}}]}`, []string{"h1:1", "h2:1", "h3:1"}, false},
		{"none", `{"mons":[]}`, nil, true},
		{"garbage", `{`, nil, true},
	} {
		got, err := parseMonDump([]byte(tc.in))
		if (err != nil) != tc.bad || !slices.Equal(got, tc.want) {
			t.Errorf("%s: parseMonDump = %v, %v; want %v (error %v)", tc.name, got, err, tc.want, tc.bad)
		}
	}
}

func TestRemoveOptionsDefaults(t *testing.T) {
	for _, tc := range []struct {
		in, want RemoveOptions
	}{
		{RemoveOptions{}, RemoveOptions{12, 5 * time.Second, true}},
		{RemoveOptions{Retries: 3}, RemoveOptions{3, 5 * time.Second, false}},
		{RemoveOptions{Retries: -1}, RemoveOptions{0, 5 * time.Second, false}},
		{RemoveOptions{Interval: time.Second, TrashAsLastResort: true}, RemoveOptions{12, time.Second, true}},
	} {
		if got := tc.in.withDefaults(); got != tc.want {
			t.Errorf("%+v.withDefaults() = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestTempNames(t *testing.T) {
	a, b := TempName("img"), TempName("img")
	if a == b || !IsTemp(a) || !strings.HasPrefix(a, "img.tmp-") || IsTemp("img") {
		t.Fatalf("TempName: %q %q", a, b)
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{ConfPath: "/c", MonOpTimeout: 3 * time.Second}.withDefaults()
	want := [][2]string{{"client_mount_timeout", "10"}, {"rados_mon_op_timeout", "3"}, {"rados_osd_op_timeout", "30"}}
	if c.User != "admin" || !slices.Equal(c.options(), want) {
		t.Fatalf("defaults: user %q options %v", c.User, c.options())
	}
	c.NoImageCache = true
	if got := c.options(); !slices.Equal(got, append(want, [2]string{"rbd_cache", "false"})) {
		t.Fatalf("NoImageCache: options %v", got)
	}
}

func TestDataRuns(t *testing.T) {
	const blk = sparseBlock
	withData := func(size int, at ...int) []byte {
		p := make([]byte, size)
		for _, a := range at {
			p[a] = 1
		}
		return p
	}
	for _, tc := range []struct {
		name string
		p    []byte
		want []run
	}{
		{"all zero", make([]byte, 8*blk), nil},
		{"one block", withData(8*blk, 3*blk+5), []run{{3 * blk, 4 * blk}}},
		{"short tail", withData(2*blk+10, 2*blk+9), []run{{2 * blk, 2*blk + 10}}},
		{"small gap merged", withData(64*blk, 0, 5*blk), []run{{0, 6 * blk}}},
		{"wide gap split", withData(64*blk, 0, 40*blk), []run{{0, blk}, {40 * blk, 41 * blk}}},
		{"full", bytes.Repeat([]byte{7}, 3*blk), []run{{0, 3 * blk}}},
	} {
		if got := dataRuns(tc.p); !slices.Equal(got, tc.want) {
			t.Errorf("%s: dataRuns = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Stalled tells a cluster that does not answer (cleanup would block again)
// from other failures, through the provisioner's wrapping too.
func TestStalled(t *testing.T) {
	timedOut := translate(fakeCephError(-int(syscall.ETIMEDOUT)), "write", "image p/x")
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{timedOut, true},
		{fmt.Errorf("import image i into p/x: %w", timedOut), true},
		{errors.Join(errors.New("other"), timedOut), true},
		{translate(fakeCephError(-int(syscall.ENOTCONN)), "open", "image p/x"), true},
		// An image service's 503: nothing said of Ceph.
		{fmt.Errorf("image service: %w", errs.ErrUnavailable), false},
		{translate(fakeCephError(-int(syscall.ENOENT)), "open", "image p/x"), false},
		{errs.ErrChecksum, false},
		{context.Canceled, false}, // the cluster answers: clean up before returning
	} {
		if got := Stalled(tc.err); got != tc.want {
			t.Errorf("Stalled(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// The cls arguments: a map<string, bufferlist> as Ceph encodes it, and a
// string decoded back, with a short or lying length refused.
func TestEncoding(t *testing.T) {
	got := encodeStringMap(map[string]string{"b": "2", "a": ""})
	want := []byte{2, 0, 0, 0, 1, 0, 0, 0, 'a', 0, 0, 0, 0, 1, 0, 0, 0, 'b', 1, 0, 0, 0, '2'}
	if !bytes.Equal(got, want) {
		t.Fatalf("encodeStringMap = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		in   []byte
		s    string
		rest int
		ok   bool
	}{
		{[]byte{2, 0, 0, 0, 'i', 'd'}, "id", 0, true},
		{[]byte{1, 0, 0, 0, 'i', 'd'}, "i", 1, true},
		{[]byte{3, 0, 0, 0, 'i', 'd'}, "", 6, false},
		{[]byte{0xff, 0xff, 0xff, 0xff}, "", 4, false},
		{[]byte{1, 0}, "", 2, false},
	} {
		s, rest, ok := decodeString(tc.in)
		if s != tc.s || len(rest) != tc.rest || ok != tc.ok {
			t.Errorf("decodeString(%v) = %q, %d left, %v", tc.in, s, len(rest), ok)
		}
	}
}
