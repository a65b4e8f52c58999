// Package stagetest makes staged workspaces for the tests of the packages
// that read them (load, undo, pipeline), the way an extract writes them.
package stagetest

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ferryhq/ferry/host/stage"
	"github.com/ferryhq/ferry/sdk/schema"
)

// StageAll writes records into a fresh workspace, in one extract run with
// one checkpoint, and closes the workspace when the test ends.
func StageAll(t testing.TB, recs []schema.Record) *stage.Workspace {
	t.Helper()
	ctx := t.Context()
	ws, err := stage.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	in, err := ws.NewIngest(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	builders := map[string]*schema.Builder{}
	var order []string
	for _, r := range recs {
		b, ok := builders[r.Stream()]
		if !ok {
			if b, err = schema.NewBuilder(memory.NewGoAllocator(), r.Stream()); err != nil {
				t.Fatal(err)
			}
			builders[r.Stream()] = b
			order = append(order, r.Stream())
		}
		if err := b.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, stream := range order {
		b := builders[stream]
		rec := b.NewRecordBatch()
		if err := in.Batch(ctx, stream, rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		b.Release()
	}
	if err := in.Checkpoint(ctx, "all", nil); err != nil {
		t.Fatal(err)
	}
	return ws
}
