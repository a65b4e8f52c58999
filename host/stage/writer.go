package stage

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// maxGroup bounds how many writes share one commit.
const maxGroup = 512

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
// are durable.
type writeOp struct {
	ctx     context.Context
	at      time.Time // when the rows were written, their recorded_at
	ledger  []ledgerRow
	idMap   []idMapRow
	intents []Intent
	clear   []RecordKey
	done    chan error
}

func (op *writeOp) rows() int {
	return len(op.ledger) + len(op.idMap) + len(op.intents) + len(op.clear)
}

// writer makes the ledger's, the id map's and the intents' rows durable
// for a load that writes a few after every Intercom call, at a cost that
// does not make the workspace what the load waits for.
//
// DuckDB spends milliseconds of CPU on every statement and commit,
// whatever its size, so rows written as they come cost more than the
// calls they record. The writer appends them instead to a journal file
// in the workspace folder (whoever arrives while an append is under way
// joins the next one) and returns once the journal is synced: "created in
// Intercom" is never acknowledged before it is durable. Every so often,
// and before anything reads those tables (Workspace.sync), it folds the
// journal into DuckDB in one transaction (the rows through DuckDB's
// appender into temporary tables, then one statement per table), and
// deletes it. A journal left by a crash is folded when the
// workspace opens next, before anything reads it. Writes of many rows at
// once (a transform's outcomes for a batch) go to DuckDB directly.
type writer struct {
	db    *sql.DB
	mem   *memoryBudget
	dir   string
	log   *slog.Logger
	every time.Duration // how often the journal is folded

	ops    chan writeOp
	syncs  chan chan error
	quit   chan struct{}
	done   chan struct{}
	closed sync.Once

	// crashed: abandon stopped the writer, which then folds nothing.
	crashed bool

	// Owned by loop.
	seg     *os.File  // the journal being appended to; nil: none
	segSeq  int       // the number of the last journal file
	pending []writeOp // journaled and not yet folded, in order
	rows    int       // their rows
}

const (
	// journalPattern names the journal files in the workspace folder;
	// their number orders them.
	journalPattern = "ferry.journal.%06d"
	journalGlob    = "ferry.journal.*"
	// foldEvery is how stale the tables may be for a reader in another
	// process (ferry query reads through the running ferry, which folds
	// first: see ServeQueries). A fold has a fixed cost in DuckDB (four
	// statements and a commit): at 1 s, folds were 14% of a load's CPU,
	// at 5 s 13% (the rest is per row). foldRows bounds the journal.
	foldEvery = 5 * time.Second
	foldRows  = 20000
	// directRows: an op this large goes to DuckDB as it is.
	directRows = 512
)

// newWriter starts the writer of the workspace in dir, first folding any
// journal a crash left there.
func newWriter(db *sql.DB, dir string, every time.Duration, mem *memoryBudget) (*writer, error) {
	w := &writer{db: db, mem: mem, dir: dir, log: slog.New(slog.DiscardHandler), every: cmp.Or(every, foldEvery), ops: make(chan writeOp), syncs: make(chan chan error),
		quit: make(chan struct{}), done: make(chan struct{})}
	if err := w.replay(); err != nil {
		return nil, err
	}
	go w.loop()
	return w, nil
}

// write queues rows and returns once they are durable (or failed).
func (w *writer) write(ctx context.Context, ledger []ledgerRow, idMap []idMapRow) error {
	return w.do(ctx, writeOp{ledger: ledger, idMap: idMap})
}

// do queues an op and returns once it is durable (or failed).
func (w *writer) do(ctx context.Context, op writeOp) error {
	op.ctx, op.done, op.at = ctx, make(chan error, 1), time.Now().UTC()
	select {
	case w.ops <- op:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.quit:
		return fmt.Errorf("workspace closed")
	}
	// Once queued, the op is made durable or failed promptly: wait for it
	// even if ctx ends, so the caller knows whether its rows are.
	return <-op.done
}

// sync folds the journal into the tables, so that what reads them next
// sees every write acknowledged so far.
func (w *writer) sync(ctx context.Context) error {
	req := make(chan error, 1)
	select {
	case w.syncs <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.done:
		return nil // closed: everything was folded
	}
	select {
	case err := <-req:
		return err
	case <-w.done:
		return nil
	}
}

// close stops the writer once it has folded what is journaled; closing it
// again does nothing. A fold that fails leaves the journal for the next
// open.
func (w *writer) close() {
	w.closed.Do(func() { close(w.quit) })
	<-w.done
}

// abandon stops the writer as a crash would, folding nothing: the tests'
// way to leave a journal for the next open.
func (w *writer) abandon() {
	w.closed.Do(func() {
		w.crashed = true
		close(w.quit)
	})
	<-w.done
}

func (w *writer) loop() {
	defer close(w.done)
	tick := time.NewTicker(w.every)
	defer tick.Stop()
	for {
		select {
		case op := <-w.ops:
			group := []writeOp{op}
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
		case req := <-w.syncs:
			req <- w.fold()
		case <-tick.C:
			if err := w.fold(); err != nil {
				w.log.Warn("fold the workspace journal (it is kept, and folded again)", "error", err)
			}
		case <-w.quit:
			if w.crashed {
				if w.seg != nil {
					w.seg.Close()
				}
				return
			}
			if err := w.fold(); err == nil && w.seg != nil {
				w.seg.Close()
			}
			return
		}
	}
}

// commit makes a group durable: journaled, or written to DuckDB when it
// holds a large op.
func (w *writer) commit(group []writeOp) {
	live := group[:0]
	big := false
	for _, op := range group {
		if err := op.ctx.Err(); err != nil {
			op.done <- err
			continue
		}
		big = big || op.rows() > directRows
		live = append(live, op)
	}
	if len(live) == 0 {
		return
	}
	if big {
		// What is journaled goes first, so that the last write of a row
		// wins.
		if err := w.fold(); err != nil {
			for _, op := range live {
				op.done <- err
			}
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
		return
	}
	err := w.journal(live)
	for _, op := range live {
		op.done <- err
	}
	if err == nil && w.rows >= foldRows {
		if err := w.fold(); err != nil {
			w.log.Warn("fold the workspace journal (it is kept, and folded again)", "error", err)
		}
	}
}

// journalOp is a writeOp as a line of the journal.
type journalOp struct {
	At      int64           `json:"at"` // Unix microseconds
	Ledger  []journalLedger `json:"l,omitempty"`
	IDMap   []journalIDMap  `json:"m,omitempty"`
	Intents []Intent        `json:"i,omitempty"`
	Clear   []RecordKey     `json:"c,omitempty"`
}

type journalLedger struct {
	Entity, SourceID, Outcome, Reason, IntercomID, Stage string
	RunID                                                int64
	SourceUpdatedAt                                      int64 `json:",omitempty"` // Unix microseconds
}

type journalIDMap struct {
	Entity, SourceID, IntercomID string
	RunID                        int64
	Adopted                      bool `json:",omitempty"`
}

// journal appends ops to the journal and syncs it.
func (w *writer) journal(ops []writeOp) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, op := range ops {
		j := journalOp{At: op.at.UnixMicro(), Intents: op.intents, Clear: op.clear}
		for _, r := range op.ledger {
			l := journalLedger{r.entity, r.sourceID, r.outcome, r.reason, r.intercomID, r.stage, r.runID, 0}
			if !r.sourceUpdatedAt.IsZero() {
				l.SourceUpdatedAt = r.sourceUpdatedAt.UnixMicro()
			}
			j.Ledger = append(j.Ledger, l)
		}
		for _, r := range op.idMap {
			j.IDMap = append(j.IDMap, journalIDMap{r.entity, r.sourceID, r.intercomID, r.runID, r.adopted})
		}
		if err := enc.Encode(j); err != nil {
			return fmt.Errorf("journal the workspace's rows: %w", err)
		}
	}
	if w.seg == nil {
		w.segSeq++
		f, err := os.OpenFile(filepath.Join(w.dir, fmt.Sprintf(journalPattern, w.segSeq)), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("create the workspace journal: %w", diskFull(err))
		}
		// The new file's name must survive a crash too.
		if err := syncDir(w.dir); err != nil {
			f.Close()
			return fmt.Errorf("create the workspace journal: %w", err)
		}
		w.seg = f
	}
	if _, err := w.seg.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("append to the workspace journal: %w", diskFull(err))
	}
	if err := w.seg.Sync(); err != nil {
		return fmt.Errorf("sync the workspace journal: %w", diskFull(err))
	}
	w.pending = append(w.pending, ops...)
	for _, op := range ops {
		w.rows += op.rows()
	}
	return nil
}

// fold writes what is journaled into DuckDB and deletes the journal.
func (w *writer) fold() error {
	if len(w.pending) == 0 {
		return nil
	}
	if err := w.tx(w.pending); err != nil {
		return fmt.Errorf("fold the workspace journal into the tables: %w", diskFull(err))
	}
	name := w.seg.Name()
	w.seg.Close()
	w.seg, w.pending, w.rows = nil, nil, 0
	// Were it left, the next open would fold it again, to the same rows.
	if err := os.Remove(name); err != nil {
		w.log.Warn("remove a folded journal", "file", name, "error", err)
	}
	return nil
}

// replay folds the journals a crash left, oldest first.
func (w *writer) replay() error {
	names, err := filepath.Glob(filepath.Join(w.dir, journalGlob))
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		var seq int
		if _, err := fmt.Sscanf(filepath.Base(name), journalPattern, &seq); err != nil {
			continue
		}
		w.segSeq = max(w.segSeq, seq)
		ops, err := readJournal(name)
		if err != nil {
			return err
		}
		if len(ops) > 0 {
			if err := w.tx(ops); err != nil {
				return fmt.Errorf("fold the journal %s a crash left: %w", name, err)
			}
		}
		if err := os.Remove(name); err != nil {
			return fmt.Errorf("remove the folded journal %s: %w", name, err)
		}
	}
	return nil
}

// readJournal reads a journal's ops. A last line cut short (the crash came
// while it was written) was never acknowledged, and is left out.
func readJournal(name string) ([]writeOp, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read the journal %s: %w", name, err)
	}
	var ops []writeOp
	for len(data) > 0 {
		line, rest, complete := bytes.Cut(data, []byte("\n"))
		data = rest
		var j journalOp
		if err := json.Unmarshal(line, &j); err != nil {
			if !complete {
				break
			}
			return nil, fmt.Errorf("the journal %s is damaged: %w", name, err)
		}
		op := writeOp{at: time.UnixMicro(j.At).UTC(), intents: j.Intents, clear: j.Clear}
		for _, l := range j.Ledger {
			r := ledgerRow{l.Entity, l.SourceID, l.Outcome, l.Reason, l.IntercomID, l.Stage, l.RunID, time.Time{}}
			if l.SourceUpdatedAt != 0 {
				r.sourceUpdatedAt = time.UnixMicro(l.SourceUpdatedAt).UTC()
			}
			op.ledger = append(op.ledger, r)
		}
		for _, m := range j.IDMap {
			op.idMap = append(op.idMap, idMapRow{m.Entity, m.SourceID, m.IntercomID, m.RunID, m.Adopted})
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// tx writes ops to DuckDB in one transaction, as if one after the other:
// a record's last outcome wins and its first Intercom id (the id map never
// changes what it once recorded), and a record's intents are those its
// ops left (a clear removes the ones before it).
func (w *writer) tx(ops []writeOp) error {
	// A commit must not be torn by one caller's cancellation.
	ctx := context.Background()
	type stamped[T any] struct {
		row T
		at  time.Time
	}
	ledger := map[[2]string]stamped[ledgerRow]{}
	var ledgerOrder [][2]string
	idMap := map[[2]string]stamped[idMapRow]{}
	var idOrder [][2]string
	cleared := map[RecordKey]bool{}
	var clearOrder []RecordKey
	intents := map[RecordKey]map[int]stamped[Intent]{}
	var intentOrder []RecordKey
	for _, op := range ops {
		for _, r := range op.ledger {
			k := [2]string{r.entity, r.sourceID}
			if _, ok := ledger[k]; !ok {
				ledgerOrder = append(ledgerOrder, k)
			}
			ledger[k] = stamped[ledgerRow]{r, op.at}
		}
		for _, r := range op.idMap {
			k := [2]string{r.entity, r.sourceID}
			if _, ok := idMap[k]; !ok {
				idOrder = append(idOrder, k)
				idMap[k] = stamped[idMapRow]{r, op.at}
			}
		}
		for _, k := range op.clear {
			delete(intents, k)
			if !cleared[k] {
				cleared[k] = true
				clearOrder = append(clearOrder, k)
			}
		}
		for _, in := range op.intents {
			k := RecordKey{in.Entity, in.SourceID}
			if intents[k] == nil {
				intents[k] = map[int]stamped[Intent]{}
				intentOrder = append(intentOrder, k)
			}
			intents[k][in.Step] = stamped[Intent]{in, op.at}
		}
	}
	keys := int64(len(ledger) + len(idMap))
	for _, steps := range intents {
		keys += int64(len(steps))
	}
	release, err := w.mem.reserve(ctx, keys)
	if err != nil {
		return err
	}
	defer release()
	// Rows go into temporary tables through DuckDB's appender, then into
	// the tables with one statement each: statements of many bound
	// parameters cost DuckDB more to plan than to run.
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, q := range journalTempDDL() {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("prepare the fold: %w", err)
		}
	}
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("a workspace connection of type %T", dc)
		}
		app := func(table string, rows func(add func(...driver.Value) error) error) error {
			a, err := duckdb.NewAppender(c, "temp", "main", table)
			if err != nil {
				return fmt.Errorf("append to %s: %w", table, err)
			}
			if err := rows(a.AppendRow); err != nil {
				return errors.Join(fmt.Errorf("append to %s: %w", table, err), a.Close())
			}
			if err := a.Close(); err != nil {
				return fmt.Errorf("append to %s: %w", table, err)
			}
			return nil
		}
		return errors.Join(
			app("j_clear", func(add func(...driver.Value) error) error {
				for _, k := range clearOrder {
					if err := add(k.Entity, k.SourceID); err != nil {
						return err
					}
				}
				return nil
			}),
			app("j_intents", func(add func(...driver.Value) error) error {
				for _, k := range intentOrder {
					steps := intents[k]
					for _, step := range slices.Sorted(maps.Keys(steps)) {
						st := steps[step]
						in := st.row
						if err := add(in.Entity, in.SourceID, int32(in.Step), in.State, nullIfEmpty(in.Target), nullIfEmpty(in.Detail), nullIfEmpty(in.IntercomID), in.RunID, st.at); err != nil {
							return err
						}
					}
				}
				return nil
			}),
			app("j_id_map", func(add func(...driver.Value) error) error {
				for _, k := range idOrder {
					st := idMap[k]
					r := st.row
					if err := add(r.entity, r.sourceID, r.intercomID, r.runID, st.at, r.adopted); err != nil {
						return err
					}
				}
				return nil
			}),
			app("j_ledger", func(add func(...driver.Value) error) error {
				for _, k := range ledgerOrder {
					st := ledger[k]
					r := st.row
					if err := add(r.entity, r.sourceID, r.outcome, nullIfEmpty(r.reason), nullIfEmpty(r.intercomID), r.stage, r.runID, st.at, nullIfZero(r.sourceUpdatedAt)); err != nil {
						return err
					}
				}
				return nil
			}))
	})
	if err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		`DELETE FROM intents WHERE (entity, source_id) IN (SELECT (entity, source_id) FROM temp.j_clear)`,
		`INSERT OR REPLACE INTO intents (entity, source_id, step, state, target, detail, intercom_id, run_id, recorded_at)
SELECT entity, source_id, step, state, target, detail, intercom_id, run_id, recorded_at FROM temp.j_intents`,
		`INSERT INTO id_map (entity, source_id, intercom_id, run_id, created_at, adopted)
SELECT entity, source_id, intercom_id, run_id, created_at, adopted FROM temp.j_id_map ON CONFLICT DO NOTHING`,
		`INSERT OR REPLACE INTO ledger (entity, source_id, outcome, reason, intercom_id, stage, run_id, recorded_at, source_updated_at)
SELECT entity, source_id, outcome, reason, intercom_id, stage, run_id, recorded_at, source_updated_at FROM temp.j_ledger`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("write the journal's rows: %w", err)
		}
	}
	return tx.Commit()
}

// journalTempDDL makes a connection's empty temporary tables a fold
// appends to. They are made anew each time: emptied with DELETE, a
// temporary table keeps the rows' storage (nothing checkpoints the
// temporary catalog), and over a long load grew by every row ever folded,
// into memory DuckDB could not give back.
func journalTempDDL() []string {
	return []string{
		`CREATE OR REPLACE TEMP TABLE j_clear (entity VARCHAR, source_id VARCHAR)`,
		`CREATE OR REPLACE TEMP TABLE j_intents (entity VARCHAR, source_id VARCHAR, step INTEGER, state VARCHAR, target VARCHAR, detail VARCHAR, intercom_id VARCHAR, run_id BIGINT, recorded_at TIMESTAMP)`,
		`CREATE OR REPLACE TEMP TABLE j_id_map (entity VARCHAR, source_id VARCHAR, intercom_id VARCHAR, run_id BIGINT, created_at TIMESTAMP, adopted BOOLEAN)`,
		`CREATE OR REPLACE TEMP TABLE j_ledger (entity VARCHAR, source_id VARCHAR, outcome VARCHAR, reason VARCHAR, intercom_id VARCHAR, stage VARCHAR, run_id BIGINT, recorded_at TIMESTAMP, source_updated_at TIMESTAMP)`,
	}
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
