package stage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/ferryhq/ferry/sdk/schema"
)

// Ingest stages a source's read. Batches go into their stream tables through
// DuckDB's Arrow scan, without copying rows one by one, inside a transaction
// that the next checkpoint commits together with its cursor: a crash loses
// at most what came after the last checkpoint, and a resumed read starts
// right there.
type Ingest struct {
	w     *Workspace
	conn  *sql.Conn
	arrow *duckdb.Arrow
	runID int64
	inTx  bool
	views int
	// rows staged per stream: pending since the last commit, and committed.
	pending   map[string]int64
	committed map[string]int64
	// staged holds the ids staged since the last commit, per entity.
	staged map[string][]string
	// fresh holds, for each table that was empty when the Ingest began,
	// the ids staged into it since (see upsert); nil until the first.
	fresh map[string]*idSet
}

// NewIngest starts staging for run runID. Close it when done.
func (w *Workspace) NewIngest(ctx context.Context, runID int64) (*Ingest, error) {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("start staging: %w", err)
	}
	ar, err := arrowOf(conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("start staging: %w", err)
	}
	fresh := map[string]*idSet{}
	for _, stream := range schema.StreamNames() {
		var has bool
		if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s)", QuoteIdent(stream))).Scan(&has); err != nil {
			conn.Close()
			return nil, fmt.Errorf("start staging: %w", err)
		}
		if !has {
			fresh[stream] = nil
		}
	}
	return &Ingest{w: w, conn: conn, arrow: ar, runID: runID, pending: map[string]int64{}, committed: map[string]int64{}, staged: map[string][]string{}, fresh: fresh}, nil
}

func (in *Ingest) begin(ctx context.Context) error {
	if in.inTx {
		return nil
	}
	if _, err := in.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("begin staging transaction: %w", err)
	}
	in.inTx = true
	return nil
}

// Batch stages a batch of a canonical stream's records, replacing rows with
// the same id (a delta read brings changed records again; within a batch the
// last record of an id wins).
func (in *Ingest) Batch(ctx context.Context, stream string, rec arrow.RecordBatch) error {
	if err := checkSchema(stream, rec.Schema()); err != nil {
		return err
	}
	if err := in.begin(ctx); err != nil {
		return err
	}
	extra := map[string]string{"_run_id": fmt.Sprint(in.runID), "_extracted_at": "now()::TIMESTAMP"}
	ids, err := in.upsert(ctx, stream, stream, rec, extra)
	if err != nil {
		return fmt.Errorf("stage %d %s: %w", rec.NumRows(), stream, diskFull(err))
	}
	in.pending[stream] += rec.NumRows()
	if entity := EntityOfStream(stream); entity != "" {
		in.staged[entity] = append(in.staged[entity], ids...)
	}
	return nil
}

// upsert writes a batch of stream into table, replacing the rows of the
// same ids, and returns the batch's ids.
//
// Stream tables carry no key index: DuckDB keeps an index on millions of
// text keys at a high price in staging time and file size (half again each,
// measured), and the one writer, this Ingest, can keep ids unique itself:
// it deletes the batch's ids that may be in the table, then appends the
// batch. Into a table that was empty when the Ingest began (a first
// extract, the bulk of all staging), only ids this Ingest staged itself can
// be there again, and a set of their hashes says which may be: no delete
// at all for fresh ids, where a delete would scan the whole table each time.
func (in *Ingest) upsert(ctx context.Context, table, stream string, rec arrow.RecordBatch, extra map[string]string) ([]string, error) {
	col := rec.Column(0).(*array.String)
	ids := make([]string, col.Len())
	seen := make(map[string]struct{}, col.Len())
	dups := false
	var again []string // ids that may already be in the table
	known, tracked := in.fresh[table]
	if tracked && known == nil {
		known = &idSet{}
		in.fresh[table] = known
	}
	for i := range col.Len() {
		id := col.Value(i)
		ids[i] = id
		if _, ok := seen[id]; ok {
			dups = true
			continue
		}
		seen[id] = struct{}{}
		if !tracked {
			again = append(again, id)
			continue
		}
		if known.add(id) {
			again = append(again, id)
		}
	}
	if dups || !validText(rec) {
		// The slow way, and rare: a source that sends a record again
		// within one batch, or text that is not UTF-8 (which DuckDB
		// refuses, failing the whole batch) from a plugin that did not
		// build its batches with the SDK, whose builder makes each stray
		// byte U+FFFD.
		var err error
		if rec, err = rebuild(stream, rec); err != nil {
			return nil, err
		}
		defer rec.Release()
	}
	if len(again) > 0 {
		if _, err := in.conn.ExecContext(ctx,
			fmt.Sprintf("DELETE FROM %s WHERE id IN (SELECT unnest(?::VARCHAR[]))", QuoteIdent(table)), again); err != nil {
			return nil, fmt.Errorf("replace earlier rows: %w", err)
		}
	}
	if err := in.insert(ctx, table, rec, extra); err != nil {
		return nil, err
	}
	return ids, nil
}

// validText reports whether every text value of a batch is UTF-8.
func validText(rec arrow.RecordBatch) bool {
	for _, col := range rec.Columns() {
		if l, ok := col.(*array.List); ok {
			col = l.ListValues()
		}
		if s, ok := col.(*array.String); ok && !utf8.Valid(s.ValueBytes()) {
			return false
		}
	}
	return true
}

// rebuild builds a batch again through the SDK's builder: with the last
// record of each id only, in order, and its text made UTF-8.
func rebuild(stream string, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	recs, err := schema.Records(stream, rec)
	if err != nil {
		return nil, err
	}
	last := make(map[string]int, len(recs))
	for i, r := range recs {
		last[r.SourceID()] = i
	}
	b, err := schema.NewBuilder(memory.NewGoAllocator(), stream)
	if err != nil {
		return nil, err
	}
	defer b.Release()
	for i, r := range recs {
		if last[r.SourceID()] == i {
			if err := b.Append(r); err != nil {
				return nil, err
			}
		}
	}
	return b.NewRecordBatch(), nil
}

// clearExtractOutcomes drops the extract-stage failures and skips of the
// records staged since the last checkpoint: a record staged now is no
// longer one the extract failed. (The Arrow view a batch came through can
// be scanned once only, so the ids are kept in Go; the ledger is checked
// first, since it rarely holds any.)
func (in *Ingest) clearExtractOutcomes(ctx context.Context) error {
	for entity, ids := range in.staged {
		var any bool
		if err := in.conn.QueryRowContext(ctx,
			`SELECT EXISTS (SELECT 1 FROM ledger WHERE stage = 'extract' AND entity = ?)`, entity).Scan(&any); err != nil {
			return fmt.Errorf("read earlier extract outcomes: %w", err)
		}
		if !any {
			continue
		}
		if _, err := in.conn.ExecContext(ctx,
			`DELETE FROM ledger WHERE stage = 'extract' AND entity = ? AND list_contains(?::VARCHAR[], source_id)`, entity, ids); err != nil {
			return fmt.Errorf("clear earlier extract outcomes of %s: %w", entity, err)
		}
	}
	clear(in.staged)
	return nil
}

// insert appends rec to table through an Arrow view. extra gives SQL
// expressions for the table's columns that the batch does not have.
func (in *Ingest) insert(ctx context.Context, table string, rec arrow.RecordBatch, extra map[string]string) error {
	in.views++
	view := fmt.Sprintf("ferry_batch_%d", in.views)
	rdr, err := array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec})
	if err != nil {
		return err
	}
	defer rdr.Release()
	release, err := in.arrow.RegisterView(rdr, view)
	if err != nil {
		return fmt.Errorf("register Arrow view: %w", err)
	}
	defer release()
	defer in.conn.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS "+QuoteIdent(view))

	q := insertSQL(table, rec.Schema(), extra, view)
	if _, err := in.conn.ExecContext(ctx, q); err != nil {
		return err
	}
	return nil
}

// insertSQL appends what view holds, of schema sc, to table. extra gives
// SQL expressions for the table's columns that the view does not have.
func insertSQL(table string, sc *arrow.Schema, extra map[string]string, view string) string {
	var cols, exprs []string
	for _, f := range sc.Fields() {
		cols = append(cols, QuoteIdent(f.Name))
		if schema.IsJSON(f) {
			exprs = append(exprs, fmt.Sprintf("CAST(%s AS JSON)", QuoteIdent(f.Name)))
		} else {
			exprs = append(exprs, QuoteIdent(f.Name))
		}
	}
	for col, expr := range extra {
		cols = append(cols, QuoteIdent(col))
		exprs = append(exprs, expr)
	}
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s",
		QuoteIdent(table), strings.Join(cols, ", "), strings.Join(exprs, ", "), QuoteIdent(view))
}

// Checkpoint commits every batch staged since the last checkpoint together
// with stream's cursor. An empty cursor commits without moving the cursor.
func (in *Ingest) Checkpoint(ctx context.Context, stream string, cursor []byte) error {
	if err := in.begin(ctx); err != nil {
		return err
	}
	if err := in.clearExtractOutcomes(ctx); err != nil {
		return err
	}
	if len(cursor) > 0 {
		if _, err := in.conn.ExecContext(ctx,
			`INSERT OR REPLACE INTO checkpoints (stream, cursor, run_id, committed_at) VALUES (?, ?, ?, now()::TIMESTAMP)`,
			stream, cursor, in.runID); err != nil {
			return fmt.Errorf("record checkpoint of %s: %w", stream, err)
		}
	}
	if _, err := in.conn.ExecContext(ctx, "COMMIT"); err != nil {
		in.inTx = false
		return fmt.Errorf("commit checkpoint of %s: %w", stream, diskFull(err))
	}
	in.inTx = false
	for s, n := range in.pending {
		in.committed[s] += n
	}
	clear(in.pending)
	if err := in.w.checkpointLog(ctx, in.conn); err != nil {
		return err
	}
	// The ledger's index grows by the records the source skipped or
	// failed.
	return in.w.mem.refit(ctx)
}

// RecordError records a record the source could not read as failed at
// extract; it is committed with the next checkpoint.
func (in *Ingest) RecordError(ctx context.Context, stream, sourceID, reason string) error {
	return in.outcome(ctx, stream, sourceID, Failed, reason)
}

// RecordSkipped records a record the source has but that is not to be
// migrated; it is committed with the next checkpoint.
func (in *Ingest) RecordSkipped(ctx context.Context, stream, sourceID, reason string) error {
	return in.outcome(ctx, stream, sourceID, Skipped, reason)
}

func (in *Ingest) outcome(ctx context.Context, stream, sourceID, outcome, reason string) error {
	if err := in.begin(ctx); err != nil {
		return err
	}
	entity := EntityOfStream(stream)
	if entity == "" {
		entity = stream
	}
	if _, err := in.conn.ExecContext(ctx,
		`INSERT OR REPLACE INTO ledger (entity, source_id, outcome, reason, stage, run_id, recorded_at) VALUES (?, ?, ?, ?, 'extract', ?, now()::TIMESTAMP)`,
		entity, sourceID, outcome, reason, in.runID); err != nil {
		return fmt.Errorf("record %s %s %s as %s: %w", stream, sourceID, entity, outcome, err)
	}
	return nil
}

// Committed returns the rows committed per stream so far.
func (in *Ingest) Committed() map[string]int64 {
	out := make(map[string]int64, len(in.committed))
	for k, v := range in.committed {
		out[k] = v
	}
	return out
}

// Close rolls back whatever no checkpoint committed and releases the
// connection.
func (in *Ingest) Close() error {
	if in.inTx {
		in.conn.ExecContext(context.Background(), "ROLLBACK")
		in.inTx = false
		clear(in.staged)
	}
	return in.conn.Close()
}

// checkSchema refuses a batch whose columns are not its stream's.
func checkSchema(stream string, got *arrow.Schema) error {
	want, err := schema.Schema(stream)
	if err != nil {
		return err
	}
	if got.NumFields() != want.NumFields() {
		return fmt.Errorf("batch of %s has %d columns, the stream has %d", stream, got.NumFields(), want.NumFields())
	}
	for i, f := range want.Fields() {
		g := got.Field(i)
		if g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) {
			return fmt.Errorf("batch of %s: column %d is %s %s, want %s %s", stream, i, g.Name, g.Type, f.Name, f.Type)
		}
	}
	return nil
}

// Cursors returns every stream's last committed cursor.
func (w *Workspace) Cursors(ctx context.Context) (map[string][]byte, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT stream, cursor FROM checkpoints`)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var s string
		var c []byte
		if err := rows.Scan(&s, &c); err != nil {
			return nil, fmt.Errorf("read checkpoints: %w", err)
		}
		out[s] = c
	}
	return out, rows.Err()
}

// ErrDiskFull marks a write that failed for want of space.
var ErrDiskFull = errors.New("the disk is full (or a file size limit was reached) while writing the workspace: free some space and run the same command again; nothing after the last committed checkpoint was kept, and the workspace opens as before")

// diskFull adds ErrDiskFull to an error DuckDB gives when a write finds no
// room, so that people read what to do rather than an I/O message.
func diskFull(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "No space left on device") || strings.Contains(msg, "File too large") || strings.Contains(msg, "Disk quota exceeded") {
		return fmt.Errorf("%w (%v)", ErrDiskFull, err)
	}
	return err
}
