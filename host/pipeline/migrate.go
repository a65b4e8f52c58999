package pipeline

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ferryhq/ferry/sdk/schema"
)

// Migrate extracts and loads, then verifies what the load migrated (unless
// opts.SkipVerify). The load does not wait for the extract to end: as soon
// as the source's comments stream marks that every ticket update before a
// time is staged, the tickets last updated before it load, while the
// extract goes on (see extractAndLoad), so a migration takes about as long
// as the slower of the two APIs allows rather than both together.
func Migrate(ctx context.Context, env *Env, runID int64, opts LoadOptions) error {
	if err := extractAndLoad(ctx, env, runID, opts); err != nil {
		return err
	}
	if opts.SkipVerify {
		return nil
	}
	audit, err := Verify(ctx, env, runID, runID, false)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	var checked, mismatched int
	for _, n := range audit {
		checked += n.Checked
		mismatched += n.Mismatched
	}
	switch {
	case checked == 0:
	case mismatched == 0:
		fmt.Fprintf(env.progress(), "verify: the %d records this run migrated read back from Intercom equal to the source\n", checked)
	default:
		fmt.Fprintf(env.progress(), "verify: %d of the %d records this run migrated differ from the source in Intercom; see why with:\n  ferry query \"SELECT * FROM audit_mismatches\"\n", mismatched, checked)
	}
	return nil
}

// extractAndLoad runs the extract, and load passes while it runs: each time
// the comments stream commits a later mark (plugin.MarkHandler) and
// tickets became ready under it, a pass loads the tickets last updated
// before the mark, with their people, once the pass before it is done. A
// pass takes what became ready while the one before ran, so passes are
// few when loading is the slower side, and small when extracting is. When
// the extract ends, a last pass loads everything else: tickets updated
// while the extract ran, those of a source that marks nothing (a CSV
// export), and the comments a ticket gained after a pass loaded it (as a
// delta does). A ticket is never loaded twice: each pass loads only what
// the ledger does not have.
func extractAndLoad(ctx context.Context, env *Env, runID int64, opts LoadOptions) error {
	client, err := env.intercomClient()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if f, ok := env.terminal(); ok {
		// One container for the extract's bars and the load's, which the
		// lines of both are printed above.
		shared := *env
		shared.bars = newBars(f)
		shared.Progress = shared.bars
		env = &shared
		defer shared.bars.Wait()
	}
	m := &marks{changed: make(chan struct{}, 1)}
	extracted := make(chan error, 1)
	go func() {
		_, err := extract(ctx, env, runID, m.note)
		extracted <- err
	}()
	// The transforms compile while the extract runs, not in the first
	// pass: compiling a module takes seconds.
	type started struct {
		t   *transformer
		err error
	}
	compiled := make(chan started, 1)
	go func() {
		t, err := newTransformer(ctx, env)
		compiled <- started{t, err}
	}()
	transforms := sync.OnceValues(func() (*transformer, error) {
		st := <-compiled
		return st.t, st.err
	})
	defer func() {
		if t, err := transforms(); err == nil {
			t.close(context.WithoutCancel(ctx))
		}
	}()

	var (
		lr     *loadRun
		loaded time.Time // the mark of the last pass
	)
	// The bars' container waits for every bar to end, whatever path
	// returns.
	defer func() {
		if lr != nil {
			lr.prog.stop()
		}
	}()
	pass := func(before time.Time) error {
		if lr == nil {
			t, err := transforms()
			if err != nil {
				return err
			}
			lr = &loadRun{env: env, runID: runID, opts: opts, client: client, t: t, prog: newProgress(env, "load"), start: time.Now()}
		}
		_, err := lr.pass(ctx, before)
		return err
	}
	finish := func() {
		if lr != nil {
			lr.finish()
		}
	}
	// The extract's end: a last pass takes what is left.
	end := func(err error) error {
		if err != nil {
			finish()
			return fmt.Errorf("extract: %w", err)
		}
		err = pass(time.Time{})
		finish()
		return wrapLoad(err)
	}
	for {
		select {
		case err := <-extracted:
			return end(err)
		case <-m.changed:
		}
		// The extract's end wins over a mark that came with it.
		select {
		case err := <-extracted:
			return end(err)
		default:
		}
		mark := m.latest()
		if !mark.After(loaded) {
			continue
		}
		n, err := env.Workspace.TicketsChangedBetween(ctx, loaded, mark)
		if err != nil {
			cancel(err)
			<-extracted
			return err
		}
		if n == 0 {
			continue
		}
		env.logger().Info("load pass while extracting", "tickets_updated_before", mark, "newly_ready", n)
		if err := pass(mark); err != nil {
			cancel(err)
			<-extracted
			finish()
			return wrapLoad(err)
		}
		loaded = mark
	}
}

func wrapLoad(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("load: %w", err)
}

// marks keeps the latest mark of the comments stream, which tells when a
// ticket's comments are all staged; other streams' marks say nothing about
// tickets.
type marks struct {
	mu      sync.Mutex
	through time.Time
	changed chan struct{} // a token when through moved
}

func (m *marks) note(stream string, through time.Time) {
	if stream != schema.Comments {
		return
	}
	m.mu.Lock()
	later := through.After(m.through)
	if later {
		m.through = through
	}
	m.mu.Unlock()
	if later {
		select {
		case m.changed <- struct{}{}:
		default: // a token is waiting already
		}
	}
}

func (m *marks) latest() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.through
}
