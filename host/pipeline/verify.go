package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/ferryhq/ferry/host/load"
)

// Verify reads back from Intercom everything the workspace says was
// migrated and compares it with the source, into the workspace's audit
// tables (see load.Loader.Verify). It expects what the last load sent: the
// records as the transforms left them, when they ran. With only above 0 it
// checks just what run only migrated; with checksums it also compares the
// bytes of each file with Intercom's copy.
func Verify(ctx context.Context, env *Env, runID, only int64, checksums bool) (load.Audit, error) {
	tables, err := env.Workspace.LoadViews(ctx)
	if err != nil {
		return nil, err
	}
	client := env.client
	if client == nil {
		if client, err = IntercomClient(env); err != nil {
			return nil, err
		}
	}
	sum, err := env.Workspace.Summary(ctx)
	if err != nil {
		return nil, err
	}
	prog := newProgress(env, "verify")
	defer prog.stop()
	if only <= 0 {
		for _, e := range sum {
			prog.total(e.Entity, 0, e.Migrated)
		}
	}
	opts := loaderOptions(env, runID, tables)
	opts.OnOutcome = func(entity, _ string) { prog.add(entity, 1) }
	opts.VerifyChecksums = checksums
	start := time.Now()
	audit, err := load.New(env.Workspace, client, opts).Verify(ctx, only)
	prog.stop()
	st := client.Stats()
	fmt.Fprintf(env.progress(), "verify: %d Intercom calls in %.1fs\n", st.Calls, time.Since(start).Seconds())
	return audit, err
}
