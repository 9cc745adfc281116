package provisioner

import (
	"context"
	"maps"
	"slices"

	"github.com/cowdisk/cowdisk/internal/ceph"
)

// The fake's staging journal: records per "pool/owner", the same names as
// ceph's (ceph.StageName), a completion marker in the image metadata. Its
// Reap is one pass with no trash: the rounds, watches and trash are
// ceph.Reap's, tested on the dev cluster.

func (f *fakeCluster) journal(pool, owner string) map[string]string {
	if f.journals == nil {
		f.journals = map[string]map[string]string{}
	}
	j := f.journals[pool+"/"+owner]
	if j == nil {
		j = map[string]string{}
		f.journals[pool+"/"+owner] = j
	}
	return j
}

// records is for the tests' own checks: owner's recorded names, sorted.
func (f *fakeCluster) records(pool, owner string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.journal(pool, owner)))
}

func (f *fakeCluster) Stage(ctx context.Context, pool, owner, final string) (string, error) {
	name := ceph.StageName(final, owner)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.journal(pool, owner)[name] = "staged"
	return name, nil
}

func (f *fakeCluster) Intent(_ context.Context, pool, owner, final string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("intent " + pool + "/" + final)
	f.journal(pool, owner)[final] = "intent"
	return nil
}

func (f *fakeCluster) Settle(_ context.Context, pool, owner string, names ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range names {
		delete(f.journal(pool, owner), n)
	}
	return nil
}

func (f *fakeCluster) Recorded(_ context.Context, pool, owner, name string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.journal(pool, owner)[name]
	return ok, nil
}

func (f *fakeCluster) Complete(ctx context.Context, pool, name string, grow uint64, kv map[string]string) error {
	f.mu.Lock()
	img, err := f.get(pool, name)
	if err == nil && grow > 0 {
		img.size = grow
	}
	f.mu.Unlock()
	if err != nil {
		return err
	}
	kv = maps.Clone(kv)
	kv[ceph.MetaComplete] = "1"
	return f.SetMetadata(ctx, pool, name, kv)
}

// Publish renames under the fake's lock, which makes it exclusive anyway.
func (f *fakeCluster) Publish(ctx context.Context, pool, staged, final, _ string) error {
	f.mu.Lock()
	f.record("publish " + pool + "/" + final)
	f.mu.Unlock()
	return f.Rename(ctx, pool, staged, final)
}

// DiscardRecorded removes at once (the fake never stalls) and settles.
func (f *fakeCluster) DiscardRecorded(ctx context.Context, pool, owner, name string, _ error) {
	if err := f.Remove(ctx, pool, name, ceph.RemoveOptions{Retries: 3, TrashAsLastResort: true}); err == nil {
		_ = f.Settle(ctx, pool, owner, name)
	}
}

func (f *fakeCluster) Reap(ctx context.Context, pool, owner string, _ ceph.ReapOptions) ([]string, error) {
	var removed []string
	for _, n := range f.records(pool, owner) {
		f.mu.Lock()
		img, err := f.get(pool, n)
		kind := f.journal(pool, owner)[n]
		f.mu.Unlock()
		if err == nil && (kind == "staged" || img.meta[ceph.MetaComplete] == "") {
			if err := f.Remove(ctx, pool, n, ceph.RemoveOptions{}); err != nil {
				return removed, err
			}
			removed = append(removed, n)
		}
		_ = f.Settle(ctx, pool, owner, n)
	}
	return removed, nil
}
