package agent_test

import (
	"testing"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/imageclient"
)

// newCallerSource is the agent's image source over a fixed service token,
// as `serve node --token` builds it.
func newCallerSource(t testing.TB, endpoint, serviceToken string, o imageclient.Options) (agent.CallerSource, error) {
	t.Helper()
	svc, err := imageclient.New(endpoint, serviceToken, o)
	if err != nil {
		return agent.CallerSource{}, err
	}
	return agent.NewCallerSource(svc, o)
}
