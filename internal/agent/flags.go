package agent

import (
	"os"

	"github.com/spf13/pflag"
)

// EnvAgent overrides the agent address for the CLI.
const EnvAgent = "COWDISK_AGENT"

// BindClient adds --agent to flags and returns the client it configures.
func BindClient(flags *pflag.FlagSet) *Client {
	c := &Client{}
	def := os.Getenv(EnvAgent)
	if def == "" {
		def = "http://" + DefaultAddr
	}
	flags.StringVar(&c.Base, "agent", def, "node agent URL (env "+EnvAgent+")")
	return c
}
