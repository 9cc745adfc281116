package agent

import (
	"testing"

	"github.com/spf13/pflag"
)

// The CLI (disk and cache commands) takes the token and CA as OpenStack
// clients do: flags, else OS_TOKEN and OS_CACERT.
func TestBindClientFlags(t *testing.T) {
	t.Setenv("OS_TOKEN", "env-token")
	t.Setenv("OS_CACERT", "/env/ca.pem")
	t.Setenv(EnvAgent, "https://node:9393")
	for _, tc := range []struct {
		args             []string
		token, ca, agent string
	}{
		{nil, "env-token", "/env/ca.pem", "https://node:9393"},
		{[]string{"--token", "flag-token", "--cacert", "/flag/ca.pem", "--agent", "https://other:1"}, "flag-token", "/flag/ca.pem", "https://other:1"},
	} {
		fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
		c := BindClient(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if c.Token != tc.token || c.CACert != tc.ca || c.Base != tc.agent {
			t.Errorf("%v: %+v", tc.args, c)
		}
	}
}
