package provisioner_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/bench/load"
	"github.com/cowdisk/cowdisk/internal/ceph"
)

// stormDisks and stormConcurrency are the throughput comparison of issue 12:
// disks per second at 8 at once, through the agent and as bare clones.
const stormDisks, stormConcurrency = 32, 8

// reportThroughput runs the storm through the agent and as bare clones of
// the same snapshot, reports both rates and their ratio, and removes what
// it made.
func reportThroughput(b *testing.B, e *clusterEnv, client *agent.Client, imageID string) {
	ctx := context.Background()
	viaAgent, err := load.Run(ctx, stormDisks, stormConcurrency, func(ctx context.Context, i int) error {
		_, _, err := client.CreateDisk(ctx, agent.CreateRequest{InstanceID: fmt.Sprintf("storm%d", i), ImageID: imageID})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	bare, err := load.Run(ctx, stormDisks, stormConcurrency, func(ctx context.Context, i int) error {
		return e.c.Clone(ctx, ceph.SnapRef{Pool: e.imagesPool, Image: imageID, Snap: "snap"}, e.vmsPool, fmt.Sprintf("barestorm%d_disk", i), ceph.ImageOptions{})
	})
	if err != nil {
		b.Fatal(err)
	}
	for i := range stormDisks {
		if err := client.DeleteInstance(ctx, fmt.Sprintf("storm%d", i)); err != nil {
			b.Fatal(err)
		}
		_ = e.c.Remove(ctx, e.vmsPool, fmt.Sprintf("barestorm%d_disk", i), ceph.RemoveOptions{Retries: -1})
	}
	agentRate, bareRate := stormDisks/viaAgent.Wall.Seconds(), stormDisks/bare.Wall.Seconds()
	b.ReportMetric(agentRate, "clone8-agent-disks/s")
	b.ReportMetric(bareRate, "clone8-bare-disks/s")
	b.ReportMetric(agentRate/bareRate, "clone8-ratio")
}
