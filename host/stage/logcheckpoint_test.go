package stage

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/ferryhq/ferry/sdk/schema"
)

// TestIngestCheckpointsTheLog stages past the log size at which staging
// checkpoints: after the commit, the Go heap's free pages go back to the
// system and the log is checkpointed, unless another transaction is open,
// when staging goes on and checkpoints after a later commit. Nothing
// staged is lost either way.
func TestIngestCheckpointsTheLog(t *testing.T) {
	ctx := t.Context()
	const at = 64 << 10
	w, err := OpenWith(ctx, t.TempDir(), OpenOptions{checkpointAt: at, foldEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	in, err := w.NewIngest(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	next := 0
	// stage stages n tickets, leaves 64 MiB of garbage on the Go heap, and
	// returns how much of the heap the commit released (less what the
	// heap took back meanwhile).
	stage := func(n int) (released int64) {
		t.Helper()
		var recs []schema.Record
		for range n {
			recs = append(recs, &schema.Ticket{ID: fmt.Sprint(next), Subject: fmt.Sprintf("ticket %d, with a subject long enough to fill the log", next)})
			next++
		}
		rec := batch(t, recs...)
		defer rec.Release()
		if err := in.Batch(ctx, schema.Tickets, rec); err != nil {
			t.Fatal(err)
		}
		garbage := make([][]byte, 64)
		for i := range garbage {
			garbage[i] = make([]byte, 1<<20)
			garbage[i][0] = 1
		}
		runtime.KeepAlive(garbage)
		before := heapReleased()
		if err := in.Checkpoint(ctx, schema.Tickets, fmt.Appendf(nil, "%d", next)); err != nil {
			t.Fatal(err)
		}
		return heapReleased() - before
	}

	if got := stage(10); got >= 32<<20 || w.logBytes() == 0 || w.logBytes() >= at {
		t.Fatalf("a small commit: released %d MiB of the heap, log of %d bytes; want the log below the limit, and kept", got>>20, w.logBytes())
	}
	if got := stage(5000); got < 48<<20 || w.logBytes() >= at {
		t.Errorf("a commit past the limit: released %d MiB of the heap, log of %d bytes after; want the garbage's 64 MiB released and the log checkpointed", got>>20, w.logBytes())
	}

	// A reader's open transaction: DuckDB refuses the checkpoint, and
	// staging goes on.
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM tickets").Scan(&n); err != nil {
		t.Fatal(err)
	}
	stage(5000)
	if got := w.logBytes(); got < at {
		t.Errorf("a commit past the limit while a reader's transaction is open: log of %d bytes, want it kept", got)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	stage(10)
	if got := w.logBytes(); got >= at {
		t.Errorf("the next commit, the reader gone: log of %d bytes, want it checkpointed", got)
	}
	if got := count(t, w, "SELECT count(DISTINCT id) FROM tickets"); got != next {
		t.Errorf("%d tickets staged, want %d", got, next)
	}
}

// heapReleased is the Go heap's memory released to the system.
func heapReleased() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}
