package packaging

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// operationsGuide is the guide whose commands the tests run as written.
const operationsGuide = "../docs/operations.md"

// docSection returns the text of the section of the operations guide whose
// "## " heading starts with heading, up to the next "## " heading.
func docSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile(operationsGuide)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n## "+heading)
	if !ok {
		t.Fatalf("%s has no section %q", operationsGuide, heading)
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// docShell returns the first ```sh block of a section of the guide.
func docShell(t *testing.T, heading string) string {
	t.Helper()
	_, block, ok := strings.Cut(docSection(t, heading), "```sh\n")
	if ok {
		block, _, ok = strings.Cut(block, "```")
	}
	if !ok {
		t.Fatalf("%s section %q has no sh block", operationsGuide, heading)
	}
	return block
}

// docCommand returns the command of a section's sh block that starts with
// prefix, its continuation lines joined, as an operator would paste it.
func docCommand(t *testing.T, heading, prefix string) string {
	t.Helper()
	lines := strings.Split(docShell(t, heading), "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		cmd := l
		for strings.HasSuffix(cmd, `\`) && i+1 < len(lines) {
			i++
			cmd = strings.TrimSuffix(cmd, `\`) + " " + strings.TrimSpace(lines[i])
		}
		return cmd
	}
	t.Fatalf("%s section %q has no command starting %q", operationsGuide, heading, prefix)
	return ""
}

// runShell runs a shell script with env and returns its output, failing
// t (with the output) when it fails.
func runShell(t *testing.T, script string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-euc", script, "sh"}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sh: %v\nscript:\n%s\noutput:\n%s", err, script, out)
	}
	return string(out)
}

// docCaps returns the caps that the guide's "ceph auth get-or-create
// client.<user>" command gives, as the shell splits them.
func docCaps(t *testing.T, user string) []string {
	t.Helper()
	prefix := "ceph auth get-or-create client." + user + " "
	args, _, ok := strings.Cut(strings.TrimPrefix(docCommand(t, "3. Ceph users and caps", prefix), prefix), " -o ")
	if !ok {
		t.Fatalf("%s: the command for client.%s writes no keyring (-o)", operationsGuide, user)
	}
	out := runShell(t, `printf '%s\n' `+args, os.Environ())
	caps := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(caps) < 2 || len(caps)%2 != 0 {
		t.Fatalf("%s: caps of client.%s are not service/cap pairs: %q", operationsGuide, user, caps)
	}
	return caps
}
