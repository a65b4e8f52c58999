package stage

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxGroup bounds how many writes share one commit.
const maxGroup = 512

// maxRowsPerStatement bounds the rows of one multi-row INSERT: a caller may
// record a transform's outcomes for a whole batch at once.
const maxRowsPerStatement = 2000

// A row of the ledger or the id map, as the writer batches them.
type ledgerRow struct {
	entity, sourceID, outcome, reason, intercomID, stage string
	runID                                                int64
	sourceUpdatedAt                                      time.Time
}

type idMapRow struct {
	entity, sourceID, intercomID string
	runID                        int64
	adopted                      bool
}

// writeOp is a caller's rows, written together, that it waits on until they
// are committed.
type writeOp struct {
	ctx     context.Context
	ledger  []ledgerRow
	idMap   []idMapRow
	intents []Intent
	clear   []RecordKey
	done    chan error
}

// writer commits the ledger's and the id map's rows in groups: whoever
// arrives while a commit is under way joins the next one, and a group is
// written with one multi-row statement per table. DuckDB spends milliseconds
// on each statement and on each commit, so rows written one by one would
// make the workspace, not Intercom, what a load waits for. Each caller still
// returns only once its rows are durable: "created in Intercom" is never
// acknowledged before it is recorded.
type writer struct {
	db     *sql.DB
	ops    chan writeOp
	quit   chan struct{}
	done   chan struct{}
	closed sync.Once
}

func newWriter(db *sql.DB) *writer {
	w := &writer{db: db, ops: make(chan writeOp), quit: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w
}

// write queues rows and returns once they are committed (or failed).
func (w *writer) write(ctx context.Context, ledger []ledgerRow, idMap []idMapRow) error {
	return w.do(ctx, writeOp{ledger: ledger, idMap: idMap})
}

// do queues an op and returns once it is committed (or failed).
func (w *writer) do(ctx context.Context, op writeOp) error {
	op.ctx, op.done = ctx, make(chan error, 1)
	select {
	case w.ops <- op:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.quit:
		return fmt.Errorf("workspace closed")
	}
	// Once queued, the op is committed or failed promptly: wait for it even
	// if ctx ends, so the caller knows whether its rows are durable.
	return <-op.done
}

// close stops the writer once it has committed what is queued; closing
// it again does nothing.
func (w *writer) close() {
	w.closed.Do(func() { close(w.quit) })
	<-w.done
}

func (w *writer) loop() {
	defer close(w.done)
	for {
		var group []writeOp
		select {
		case op := <-w.ops:
			group = append(group, op)
		case <-w.quit:
			return
		}
	drain:
		for len(group) < maxGroup {
			select {
			case op := <-w.ops:
				group = append(group, op)
			default:
				break drain
			}
		}
		w.commit(group)
	}
}

// commit writes a group in one transaction; if that fails, each op is
// written alone so that one bad row does not fail the others.
func (w *writer) commit(group []writeOp) {
	live := group[:0]
	for _, op := range group {
		if err := op.ctx.Err(); err != nil {
			op.done <- err
			continue
		}
		live = append(live, op)
	}
	if len(live) == 0 {
		return
	}
	if err := w.tx(live); err == nil {
		for _, op := range live {
			op.done <- nil
		}
		return
	}
	for _, op := range live {
		op.done <- w.tx([]writeOp{op})
	}
}

func (w *writer) tx(ops []writeOp) error {
	// A commit must not be torn by one caller's cancellation.
	ctx := context.Background()
	// Within a group the last outcome of a record wins, and its first
	// Intercom id: the id map never changes what it once recorded.
	ledger := map[[2]string]ledgerRow{}
	var ledgerOrder [][2]string
	idMap := map[[2]string]idMapRow{}
	var idOrder [][2]string
	for _, op := range ops {
		for _, r := range op.ledger {
			k := [2]string{r.entity, r.sourceID}
			if _, ok := ledger[k]; !ok {
				ledgerOrder = append(ledgerOrder, k)
			}
			ledger[k] = r
		}
		for _, r := range op.idMap {
			k := [2]string{r.entity, r.sourceID}
			if _, ok := idMap[k]; !ok {
				idOrder = append(idOrder, k)
				idMap[k] = r
			}
		}
	}
	var intents []Intent
	var clear []RecordKey
	for _, op := range ops {
		intents = append(intents, op.intents...)
		clear = append(clear, op.clear...)
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// An op's clears and intents are of records no other op of the group
	// touches (one worker loads a record, and waits for each write).
	stmts, args := intentSQL(intents, clear)
	for i, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, args[i]...); err != nil {
			return fmt.Errorf("write the intents: %w", err)
		}
	}
	for chunk := range slices.Chunk(idOrder, maxRowsPerStatement) {
		vals := make([]string, 0, len(chunk))
		args := make([]any, 0, 4*len(chunk))
		for _, k := range chunk {
			r := idMap[k]
			vals = append(vals, "(?, ?, ?, ?, now()::TIMESTAMP, ?)")
			args = append(args, r.entity, r.sourceID, r.intercomID, r.runID, r.adopted)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO id_map (entity, source_id, intercom_id, run_id, created_at, adopted) VALUES `+
			strings.Join(vals, ", ")+` ON CONFLICT DO NOTHING`, args...); err != nil {
			return fmt.Errorf("write the id map: %w", err)
		}
	}
	for chunk := range slices.Chunk(ledgerOrder, maxRowsPerStatement) {
		vals := make([]string, 0, len(chunk))
		args := make([]any, 0, 7*len(chunk))
		for _, k := range chunk {
			r := ledger[k]
			vals = append(vals, "(?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?)")
			args = append(args, r.entity, r.sourceID, r.outcome, nullIfEmpty(r.reason), nullIfEmpty(r.intercomID), r.stage, r.runID, nullIfZero(r.sourceUpdatedAt))
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO ledger (entity, source_id, outcome, reason, intercom_id, stage, run_id, recorded_at, source_updated_at) VALUES `+
			strings.Join(vals, ", "), args...); err != nil {
			return fmt.Errorf("write the ledger: %w", err)
		}
	}
	return tx.Commit()
}

func nullIfZero(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
