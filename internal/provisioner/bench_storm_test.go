package provisioner_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/bench/load"
	"github.com/cowdisk/cowdisk/internal/ceph"
)

// storms are the throughput comparisons of issue 12: disks per second
// through the agent and as bare clones of the same snapshot, at 8 at once
// and as 32 boots at once.
var storms = []struct{ disks, concurrency int }{{32, 8}, {64, 32}}

// reportThroughput runs each storm through the agent and as bare clones of
// the same snapshot, reports both rates and their ratio, and removes what
// it made.
func reportThroughput(b *testing.B, e *clusterEnv, client *agent.Client, imageID string) {
	for _, st := range storms {
		agentRate, bareRate := storm(b, e, client, imageID, st.disks, st.concurrency)
		b.ReportMetric(agentRate, fmt.Sprintf("clone%d-agent-disks/s", st.concurrency))
		b.ReportMetric(bareRate, fmt.Sprintf("clone%d-bare-disks/s", st.concurrency))
		b.ReportMetric(agentRate/bareRate, fmt.Sprintf("clone%d-ratio", st.concurrency))
	}
}

func storm(b *testing.B, e *clusterEnv, client *agent.Client, imageID string, n, conc int) (agentRate, bareRate float64) {
	ctx := context.Background()
	viaAgent, err := load.Run(ctx, n, conc, func(ctx context.Context, i int) error {
		_, _, err := client.CreateDisk(ctx, agent.CreateRequest{InstanceID: fmt.Sprintf("storm%d", i), ImageID: imageID})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	bare, err := load.Run(ctx, n, conc, func(ctx context.Context, i int) error {
		return e.c.Clone(ctx, ceph.SnapRef{Pool: e.imagesPool, Image: imageID, Snap: "snap"}, e.vmsPool, fmt.Sprintf("barestorm%d_disk", i), ceph.ImageOptions{})
	})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if err := client.DeleteInstance(ctx, fmt.Sprintf("storm%d", i)); err != nil {
			b.Fatal(err)
		}
		_ = e.c.Remove(ctx, e.vmsPool, fmt.Sprintf("barestorm%d_disk", i), ceph.RemoveOptions{Retries: -1})
	}
	return float64(n) / viaAgent.Wall.Seconds(), float64(n) / bare.Wall.Seconds()
}
