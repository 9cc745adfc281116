//go:build interop

package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cmdTimeout bounds every client call; a hung client fails its test.
const cmdTimeout = 2 * time.Minute

// exec runs argv as who (env: the glance or the openstack environment)
// with a fresh HOME (glanceclient caches the schema
// in ~/.glanceclient and trusts it against any server) and returns its
// stdout; err is set for a non-zero exit, with stderr in the message.
func (s *service) exec(t *testing.T, env []string, argv ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	// stdin closed (`<&-`): glance and openstack read image data from any
	// stdin that is not a terminal, /dev/null included, and then create
	// 0-byte images or refuse --file and imports. A closed stdin is their
	// documented "no data" case.
	sh := append([]string{"-c", `exec "$@" <&-`, "sh"}, argv...)
	cmd := exec.CommandContext(ctx, "/bin/sh", sh...)
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin", "LANG=C.UTF-8"},
		env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		err = &cmdError{argv: argv, err: err, stderr: stderr.String(), stdout: stdout.String()}
	}
	return stdout.String(), err
}

type cmdError struct {
	argv           []string
	err            error
	stderr, stdout string
}

func (e *cmdError) Error() string {
	return strings.Join(e.argv, " ") + ": " + e.err.Error() + "\nstderr: " + e.stderr + "\nstdout: " + e.stdout
}

// run is exec that fails t when the command fails.
func (s *service) run(t *testing.T, env []string, argv ...string) string {
	t.Helper()
	out, err := s.exec(t, env, argv...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// glance runs the glance CLI.
func (s *service) glance(t *testing.T, who string, args ...string) string {
	t.Helper()
	return s.run(t, s.people[who].glanceEnv, append([]string{"/usr/bin/glance"}, args...)...)
}

// openstack runs the openstack CLI.
func (s *service) openstack(t *testing.T, who string, args ...string) string {
	t.Helper()
	return s.run(t, s.people[who].osEnv, append([]string{"/usr/bin/openstack"}, args...)...)
}

// openstackJSON runs an openstack command with -f json and decodes it.
func (s *service) openstackJSON(t *testing.T, who string, v any, args ...string) {
	t.Helper()
	out := s.openstack(t, who, append(args, "-f", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("openstack %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// sdk runs testdata/<script> with /usr/bin/python3 and decodes the JSON
// the script prints last.
func (s *service) sdk(t *testing.T, who, script string, v any, args ...string) {
	t.Helper()
	out := s.run(t, s.people[who].osEnv, append([]string{python, testdata(t, script)}, args...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), v); err != nil {
		t.Fatalf("%s: last line is not JSON: %v\n%s", script, err, out)
	}
}

// testdata is the absolute path of a file in testdata/.
func testdata(t *testing.T, name string) string {
	path, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// table parses the pretty tables glance prints: a header row, then rows,
// each "| a | b |". Every row becomes a map from header to cell.
func table(out string) []map[string]string {
	var header []string
	var rows []map[string]string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if header == nil {
			header = cells
			continue
		}
		row := map[string]string{}
		for i, c := range cells {
			if i < len(header) {
				row[header[i]] = c
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// properties turns a glance "Property | Value" table into a map.
func properties(out string) map[string]string {
	m := map[string]string{}
	for _, r := range table(out) {
		m[r["Property"]] = r["Value"]
	}
	return m
}

// testFile writes n bytes of a recognisable, non-zero pattern (raw data no
// format inspector mistakes for a header) and returns its path and bytes.
func testFile(t *testing.T, n int) (string, []byte) {
	t.Helper()
	data := bytes.Repeat([]byte("cowdisk interop test data\n"), n/26+1)[:n]
	data = append(data, []byte(t.Name())...) // each test's bytes differ
	path := filepath.Join(t.TempDir(), "image.raw")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// uniq is a name no other test uses (test names are unique per mode).
func uniq(t *testing.T) string {
	return strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
}
