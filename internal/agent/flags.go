package agent

import (
	"os"

	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/tlsconf"
)

// EnvAgent overrides the agent address for the CLI.
const EnvAgent = "COWDISK_AGENT"

// BindClient adds --agent, --token and --cacert to flags and returns the
// client they configure. The token and CA come from OpenStack's variables
// (OS_TOKEN, OS_CACERT), as for every OpenStack client.
func BindClient(flags *pflag.FlagSet) *Client {
	c := &Client{}
	def := os.Getenv(EnvAgent)
	if def == "" {
		def = "http://" + DefaultAddr
	}
	flags.StringVar(&c.Base, "agent", def, "node agent URL (env "+EnvAgent+")")
	flags.StringVar(&c.Token, "token", os.Getenv("OS_TOKEN"), "X-Auth-Token for the node agent (env OS_TOKEN)")
	flags.StringVar(&c.CACert, "cacert", os.Getenv(tlsconf.EnvCACert), "PEM file of the CAs an https agent's certificate must chain to (env OS_CACERT)")
	return c
}
