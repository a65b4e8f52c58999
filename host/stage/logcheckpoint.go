package stage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/duckdb/duckdb-go/v2"
)

// checkpointLogBytes is the write-ahead log size past which staging
// checkpoints the log into the database file itself, after a commit,
// rather than leave it to DuckDB's checkpoint_threshold (1 GB, kept as the
// backstop for what other writes log: see writerSettings).
//
// A checkpoint is where staging peaks in memory: DuckDB compresses the
// logged row groups outside its memory limit, on top of what the host's
// Go heap holds and the plugin beside it. Checkpointing here lets the host
// first hand the Go heap's free pages back to the system (the collector
// would keep them for the heap's next growth), and keeps each checkpoint
// smaller. In the bench's memory run (a 1M-ticket CSV extract into a 128
// MiB workspace; the peak of ferry and its plugin together, the variants
// run side by side):
//
//   - DuckDB's own checkpoints at 1 GB: 542 to 634 MB (four runs);
//   - the same, with the Go heap released before the commit that passes
//     1 GB: 483 to 580 MB (three);
//   - DuckDB's own checkpoints at 256 MiB, and that release: 496 to 526
//     (three); at 128 MiB: 493 to 553 (three), and staging a third slower;
//   - these checkpoints at 256 MiB: 487 to 506 MB (six).
//
// They cost time: the extract took about a tenth longer (a CHECKPOINT
// statement is slower than DuckDB's checkpoint at a commit: 5.2 s against
// 3.5 s over the same log), and BenchmarkStage a tenth to a quarter. An
// extract waits for the source's rate limit, not for staging; its memory
// is what a migration runs out of.
const checkpointLogBytes = 256 << 20

// logBytes is the size of the workspace's write-ahead log (0 when there
// is none).
func (w *Workspace) logBytes() int64 {
	fi, err := os.Stat(w.Path() + ".wal")
	if err != nil {
		return 0
	}
	return fi.Size()
}

// checkpointLog checkpoints the write-ahead log through conn, outside any
// transaction, once the log has passed w.checkpointAt bytes.
//
// DuckDB refuses a checkpoint while other transactions are open (a ferry
// query reading the workspace, say). Staging then goes on: the log is
// checkpointed after a later commit, or by DuckDB at its own threshold.
func (w *Workspace) checkpointLog(ctx context.Context, conn *sql.Conn) error {
	if w.logBytes() < w.checkpointAt {
		return nil
	}
	debug.FreeOSMemory()
	if _, err := conn.ExecContext(ctx, "CHECKPOINT"); err != nil {
		if de, ok := errors.AsType[*duckdb.Error](err); ok && de.Type == duckdb.ErrorTypeTransaction {
			return nil
		}
		return fmt.Errorf("checkpoint the write-ahead log: %w", diskFull(err))
	}
	return nil
}

// closeReleaseBytes is the log size (DuckDB's default checkpoint
// threshold) from which closing the workspace, which checkpoints the log,
// releases the Go heap's free pages first.
const closeReleaseBytes = 16 << 20
