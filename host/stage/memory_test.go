package stage

import (
	"fmt"
	"strings"
	"testing"
)

// TestOpenCapsDuckDBMemory checks that a workspace opened for writing caps
// DuckDB's memory as asked, plus the little its new workspace's indexes
// need.
func TestOpenCapsDuckDBMemory(t *testing.T) {
	for _, tt := range []struct {
		name     string
		memoryMB int
		want     float64 // MiB
	}{
		{"asked", 300, 300},
		{"the least", 64, 64},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := OpenWith(t.Context(), t.TempDir(), OpenOptions{MemoryMB: tt.memoryMB})
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			var setting string
			if err := ws.db.QueryRowContext(t.Context(), `SELECT current_setting('memory_limit')`).Scan(&setting); err != nil {
				t.Fatal(err)
			}
			var got float64
			if _, err := fmt.Sscanf(setting, "%f MiB", &got); err != nil {
				t.Fatalf("memory_limit %q: %v", setting, err)
			}
			if got < tt.want || got > tt.want+8 {
				t.Errorf("memory_limit = %s, want %.0f MiB and a little", setting, tt.want)
			}
		})
	}
}

// TestCappedWorkspaceSpills checks that a query needing far more than the
// cap still runs: DuckDB spills it to disk, external access off as it is.
func TestCappedWorkspaceSpills(t *testing.T) {
	ws, err := OpenWith(t.Context(), t.TempDir(), OpenOptions{MemoryMB: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var n int64
	// About 400 MB of hash table: 4M distinct 32-byte strings, grouped.
	err = ws.db.QueryRowContext(t.Context(), `SELECT count(*) FROM (SELECT md5(i::VARCHAR) AS k, count(*) FROM range(4000000) t(i) GROUP BY k)`).Scan(&n)
	if err != nil {
		t.Fatalf("a query over the cap: %v", err)
	}
	if n != 4_000_000 {
		t.Errorf("%d groups, want 4000000", n)
	}
}

// TestLimitFollowsTheIndexes grows a ledger's primary-key index past the
// workspace's memory budget, which DuckDB cannot spill: the limit follows
// the index, through folds of the journal and after a reopen, where a fixed
// limit stops with "Out of Memory".
func TestLimitFollowsTheIndexes(t *testing.T) {
	const budgetMB, keys, chunk = 32, 700_000, 100_000
	dir := t.TempDir()
	ctx := t.Context()
	ws, err := OpenWith(ctx, dir, OpenOptions{MemoryMB: budgetMB})
	if err != nil {
		t.Fatal(err)
	}
	write := func(ws *Workspace, from, n int, outcome string) error {
		for start := from; start < from+n; start += chunk {
			os := make([]Outcome, 0, chunk)
			for i := start; i < start+chunk; i++ {
				os = append(os, Outcome{Entity: EntityComments, SourceID: fmt.Sprintf("comment-%08d", i), Outcome: outcome, Stage: "load", RunID: 1})
			}
			if err := ws.SetOutcomes(ctx, os); err != nil {
				return err
			}
			if err := ws.sync(ctx); err != nil {
				return err
			}
		}
		return nil
	}
	if err := write(ws, 0, keys, Skipped); err != nil {
		t.Fatalf("a ledger past the budget: %v", err)
	}
	if got := ws.mem.limitBytes(); got <= budgetMB<<20 {
		t.Errorf("the limit stayed at %d bytes with %d keys", got, keys)
	}
	// The control: the budget alone cannot hold these keys. DuckDB cannot
	// write the index out to come down to it (or, if it could, more keys
	// would not fit).
	_, err = ws.db.ExecContext(ctx, fmt.Sprintf("SET memory_limit = '%dMB'", budgetMB))
	if err == nil {
		_, err = ws.db.ExecContext(ctx, fmt.Sprintf(`INSERT OR REPLACE INTO ledger (entity, source_id, outcome, stage, run_id, recorded_at)
			SELECT 'comments', 'more-' || i, 'skipped', 'load', 1, now()::TIMESTAMP FROM range(%d) t(i)`, keys))
	}
	if err == nil || !strings.Contains(err.Error(), "Out of Memory") {
		t.Fatalf("a fixed limit took the keys (err %v): the test proves nothing", err)
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened, the index is read when a write first uses it: the limit
	// has room for it already.
	ws, err = OpenWith(ctx, dir, OpenOptions{MemoryMB: budgetMB})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := write(ws, 0, chunk, Failed); err != nil {
		t.Fatalf("a write to the reopened ledger: %v", err)
	}
	var n int64
	if err := ws.db.QueryRowContext(ctx, `SELECT count(*) FROM ledger WHERE entity = 'comments'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != keys {
		t.Errorf("%d ledger rows, want %d", n, keys)
	}
}
