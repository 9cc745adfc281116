package catalog

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// testChunks: a list is stored by the update that sets it (and not by one
// that fails), read back exactly, kept across later updates, replaced by a
// later list, and removed when the record is marked deleted.
func testChunks(t *testing.T, open opener) {
	ctx := context.Background()
	c := open(t)
	ids := seed(t, c, 3, "projecta", Private)
	set := func(id string, ch *Chunks, fail error) error {
		_, err := c.Update(ctx, id, func(i *Image) error {
			i.Status, i.Chunks = StatusActive, ch
			return fail
		})
		return err
	}
	list := bytes.Repeat([]byte{0xab, 0x00, 0xff, 0x10}, 8*3) // 3 digests, bytes a text column would mangle
	boom := errors.New("boom")
	if err := set(ids[0], &Chunks{ChunkSize: 4 << 20, Digests: list}, boom); err != boom {
		t.Fatalf("failing update: %v", err)
	}
	if _, err := c.Chunks(ctx, ids[0]); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("a failed update stored a list: %v", err)
	}
	for _, tc := range []struct {
		id string
		ch Chunks
	}{
		{ids[0], Chunks{4 << 20, list, []byte{0, 0, 0, 64, 0, 3, 0, 9, 0, 0, 0, 0}}},
		{ids[1], Chunks{4 << 20, nil, nil}}, // and a list without spans (recorded before them)
	} {
		if err := set(tc.id, &tc.ch, nil); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Chunks(ctx, tc.id); err != nil || got.ChunkSize != tc.ch.ChunkSize ||
			!bytes.Equal(got.Digests, tc.ch.Digests) || len(got.Digests) != len(tc.ch.Digests) ||
			!bytes.Equal(got.Spans, tc.ch.Spans) || (got.Spans == nil) != (tc.ch.Spans == nil) {
			t.Fatalf("%s: got %+v %v, want %+v", tc.id, got, err, tc.ch)
		}
	}
	// An update that does not name a list keeps it; one that does replaces it.
	if err := set(ids[0], nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Chunks(ctx, ids[0]); err != nil || !bytes.Equal(got.Digests, list) {
		t.Fatalf("list lost by an update: %+v %v", got, err)
	}
	if err := set(ids[0], &Chunks{ChunkSize: 1 << 20, Digests: list[:32]}, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Chunks(ctx, ids[0]); err != nil || got.ChunkSize != 1<<20 || !bytes.Equal(got.Digests, list[:32]) {
		t.Fatalf("list not replaced: %+v %v", got, err)
	}
	if _, err := c.Update(ctx, ids[0], func(i *Image) error { i.Status = StatusDeleted; return nil }); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]error{ids[0]: errs.ErrNotFound, ids[1]: nil, ids[2]: errs.ErrNotFound} {
		if _, err := c.Chunks(ctx, id); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", id, err, want)
		}
	}
}
