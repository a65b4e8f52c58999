package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"

	"github.com/ferryhq/ferry/host/stage"
	"github.com/ferryhq/ferry/host/transform"
	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/transform/columnar"
)

// transformBatchRows is how many records go to the transforms in one call:
// large enough that a call across the WASM boundary is worth making, small
// enough that both cores get batches to work on.
const transformBatchRows = 8192

// TransformResult says what the transform stage did.
type TransformResult struct {
	// Tables maps each transformed stream to the view that holds its
	// records with the transforms applied (load_<stream>), for the loader.
	Tables map[string]string
	// Counts per stream and outcome (keep, changed, drop, split, error,
	// added: records a transform added to the stream).
	Counts map[string]map[string]int64
}

// Transform runs the configured WASM transforms over the selected records
// of each stream they apply to (see stage.Workspace.Select), reading the
// workspace in Arrow batches and writing what the transforms did to the
// stream's overlay (transformed_<stream>): the records they changed, added,
// dropped or failed. Records a transform drops are recorded as skipped,
// records it fails as failed, with its reason, unless they were migrated
// already. Records a transform adds to another stream (a ticket's custom
// fields as a private note, say) join that stream's overlay.
func Transform(ctx context.Context, env *Env, runID int64) (TransformResult, error) {
	t, err := newTransformer(ctx, env)
	if err != nil {
		return TransformResult{Tables: map[string]string{}, Counts: map[string]map[string]int64{}}, err
	}
	defer t.close(context.WithoutCancel(ctx))
	return t.run(ctx, env, runID)
}

// transformer holds the configured modules, compiled and started, so that
// a migration's load passes run them without loading them again.
type transformer struct {
	rt     *transform.Runtime // nil: no transforms configured
	chains map[string]*transform.Chain
	order  []string
}

// newTransformer compiles (or finds in the workspace's cache) and starts
// the configured modules.
func newTransformer(ctx context.Context, env *Env) (*transformer, error) {
	if len(env.Config.Transforms) == 0 {
		return &transformer{}, nil
	}
	cacheDir := env.transformCache()
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		return nil, fmt.Errorf("create the transform cache: %w", err)
	}
	limits := env.Config.TransformLimits
	rt, err := transform.NewRuntime(ctx, transform.Options{
		CacheDir: cacheDir, Logger: env.logger(),
		// 64 KiB pages.
		MemoryLimitPages: uint32(limits.MemoryMB) * 16,
		BatchTimeout:     time.Duration(limits.BatchTimeout),
	})
	if err != nil {
		return nil, fmt.Errorf("start the transform runtime: %w", err)
	}
	chains, order, err := loadChains(ctx, env, rt)
	if err != nil {
		return nil, errors.Join(err, rt.Close(context.WithoutCancel(ctx)))
	}
	return &transformer{rt: rt, chains: chains, order: order}, nil
}

func (t *transformer) close(ctx context.Context) error {
	if t.rt == nil {
		return nil
	}
	return t.rt.Close(ctx)
}

// run runs the chains over the selected records, as Transform says.
func (t *transformer) run(ctx context.Context, env *Env, runID int64) (TransformResult, error) {
	res := TransformResult{Tables: map[string]string{}, Counts: map[string]map[string]int64{}}
	if t.rt == nil {
		return res, nil
	}
	chains, order := t.chains, t.order
	// Records added to other streams wait for that stream's overlay.
	added := map[string][]json.RawMessage{}
	var targets []string
	for _, s := range order {
		ts := &transformStream{env: env, runID: runID, stream: s, chain: chains[s], added: added}
		if err := ts.run(ctx); err != nil {
			return res, err
		}
		res.Counts[s] = ts.counts
		res.Tables[s] = stage.LoadView(s)
		fmt.Fprintf(env.progress(), "transform %s: %s\n", s, formatCounts(ts.counts))
		for t := range ts.addedTo {
			if !slices.Contains(targets, t) {
				targets = append(targets, t)
			}
		}
	}
	// Streams that only received records (no chain of their own).
	for _, s := range targets {
		if _, ok := chains[s]; ok {
			continue
		}
		ts := &transformStream{env: env, runID: runID, stream: s, added: added}
		if err := ts.run(ctx); err != nil {
			return res, err
		}
		res.Counts[s] = ts.counts
		res.Tables[s] = stage.LoadView(s)
		fmt.Fprintf(env.progress(), "transform %s: %s\n", s, formatCounts(ts.counts))
	}
	return res, nil
}

// loadChains loads the configured modules into a chain per stream, in
// config order, and returns the streams in the order they run: every
// stream but comments first, since transforms of tickets and ticket events
// add comments.
func loadChains(ctx context.Context, env *Env, rt *transform.Runtime) (map[string]*transform.Chain, []string, error) {
	modules := map[string][]*transform.Module{}
	var streams []string
	for i, t := range env.Config.Transforms {
		path := env.path(t.WASM)
		wasm, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("transforms[%d]: read %s: %w", i, t.WASM, err)
		}
		cfg, err := json.Marshal(t.Config)
		if err != nil {
			return nil, nil, fmt.Errorf("transforms[%d]: encode config: %w", i, err)
		}
		name := strings.TrimSuffix(filepath.Base(path), ".wasm")
		m, err := rt.Load(ctx, wasm, name, cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("transforms[%d]: %w", i, err)
		}
		on := t.Streams
		if len(on) == 0 {
			on = []string{schema.Tickets}
		}
		for _, s := range on {
			if _, err := schema.Schema(s); err != nil {
				return nil, nil, fmt.Errorf("transforms[%d]: streams: %q is not a stream (%s)", i, s, strings.Join(schema.StreamNames(), ", "))
			}
			if !slices.Contains(streams, s) {
				streams = append(streams, s)
			}
			modules[s] = append(modules[s], m)
		}
	}
	chains := map[string]*transform.Chain{}
	for s, ms := range modules {
		chains[s] = transform.NewChain(ms...)
	}
	slices.SortStableFunc(streams, func(a, b string) int {
		switch {
		case a == schema.Comments && b != schema.Comments:
			return 1
		case b == schema.Comments && a != schema.Comments:
			return -1
		}
		return 0
	})
	return chains, streams, nil
}

// transformStream runs one stream's chain over its selected records.
type transformStream struct {
	env    *Env
	runID  int64
	stream string
	chain  *transform.Chain // nil: the stream only receives added records
	// added holds, per stream, records transforms added to it.
	added   map[string][]json.RawMessage
	addedTo map[string]bool

	counts   map[string]int64
	outcomes []stage.Outcome
	pieces   []piece
}

// piece is a record a split made, with only the columns the chain writes.
type piece struct {
	from   string // the id of the record split
	record json.RawMessage
}

// selectedOnly narrows a stream's records to the load's selection (see
// stage.Workspace.Select): transforms need not run over what does not load.
func selectedOnly(stream string) string {
	switch stream {
	case schema.Tickets:
		return stage.SelectedTickets("id")
	case schema.Comments, schema.Attachments, schema.TicketEvents:
		return stage.SelectedTickets("ticket_id")
	}
	return "true"
}

func (ts *transformStream) run(ctx context.Context) error {
	ts.counts, ts.addedTo = map[string]int64{}, map[string]bool{}
	ws := ts.env.Workspace
	var written []string
	whole := false
	err := ws.ReplaceOverlay(ctx, ts.stream, ts.runID, func(put func(arrow.RecordBatch) error) error {
		if ts.chain != nil {
			var read []string
			read, written, whole = ts.chain.Columns(ts.stream)
			if err := ts.applyChain(ctx, read, written, whole, put); err != nil {
				return err
			}
		}
		if err := ts.completePieces(ctx); err != nil {
			return err
		}
		return ts.putAdded(put)
	})
	if err != nil {
		return fmt.Errorf("transform %s: %w", ts.stream, err)
	}
	if err := ws.CreateLoadView(ctx, ts.stream, written, whole); err != nil {
		return err
	}
	if ts.stream == schema.Tickets {
		// Tickets the transforms made (by splitting or adding) load with
		// the selection that made them.
		if err := ws.SelectAdded(ctx); err != nil {
			return err
		}
	}
	return ts.recordOutcomes(ctx)
}

// applyChain reads the stream's selected records in Arrow batches with the
// columns the chain needs, runs the batches on the chain's instances in
// parallel, and writes what the chain did to the overlay, in order.
func (ts *transformStream) applyChain(ctx context.Context, read, written []string, whole bool, put func(arrow.RecordBatch) error) error {
	sc, _ := schema.Schema(ts.stream)
	var cols []string
	for _, f := range sc.Fields() {
		if f.Name == "id" || whole || slices.Contains(read, f.Name) || slices.Contains(written, f.Name) {
			expr := stage.QuoteIdent(f.Name)
			if schema.IsJSON(f) {
				expr = fmt.Sprintf("%s::VARCHAR AS %s", expr, expr)
			}
			cols = append(cols, expr)
		}
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s", strings.Join(cols, ", "), stage.QuoteIdent(ts.stream), selectedOnly(ts.stream))
	rdr, err := ts.env.Workspace.ReadArrow(ctx, q, transformBatchRows)
	if err != nil {
		return err
	}
	defer rdr.Release()

	// Batches are numbered so that their results go to the overlay in
	// order, whichever instance finishes first.
	type job struct {
		n   int
		rec arrow.RecordBatch
	}
	type done struct {
		n   int
		in  arrow.RecordBatch
		res *transform.BatchResult
	}
	workers := runtime.GOMAXPROCS(0)
	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan job, workers)
	results := make(chan done, workers)
	g.Go(func() error {
		defer close(jobs)
		for n := 0; rdr.Next(); n++ {
			rec := rdr.RecordBatch()
			rec.Retain()
			select {
			case jobs <- job{n, rec}:
			case <-gctx.Done():
				rec.Release()
				return gctx.Err()
			}
		}
		return rdr.Err()
	})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		g.Go(func() error {
			defer wg.Done()
			for j := range jobs {
				r, err := ts.chain.ApplyArrow(gctx, ts.stream, j.rec)
				if err != nil {
					j.rec.Release()
					return fmt.Errorf("batch %d: %w", j.n, err)
				}
				select {
				case results <- done{j.n, j.rec, r}:
				case <-gctx.Done():
					j.rec.Release()
					return gctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		wg.Wait()
		close(results)
		return nil
	})
	g.Go(func() error {
		pending := map[int]done{}
		next := 0
		for d := range results {
			pending[d.n] = d
			for {
				d, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				next++
				err := ts.write(d.in, d.res, put)
				d.in.Release()
				if d.res.Out != nil {
					d.res.Out.Release()
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	return g.Wait()
}

// write turns one batch's results into overlay rows, ledger outcomes and
// records added to other streams.
func (ts *transformStream) write(in arrow.RecordBatch, r *transform.BatchResult, put func(arrow.RecordBatch) error) error {
	ids := in.Column(0).(*array.String)
	entity := stage.EntityOfStream(ts.stream)
	var rows []int
	var kinds []string
	var by [][]string
	for i, o := range r.Outcomes {
		id := ids.Value(i)
		switch o {
		case transform.Keep, transform.Split:
			if len(r.Changed[i]) == 0 {
				ts.counts["keep"]++
				continue
			}
			ts.counts["changed"]++
			if o == transform.Split {
				ts.counts["split"]++
			}
			rows, kinds, by = append(rows, i), append(kinds, stage.OverlayChanged), append(by, r.Changed[i])
		case transform.Drop:
			ts.counts["drop"]++
			rows, kinds, by = append(rows, i), append(kinds, stage.OverlayDropped), append(by, r.Changed[i])
			ts.outcome(entity, id, stage.Skipped, "dropped by a transform: "+r.Reasons[i])
		case transform.Error:
			ts.counts["error"]++
			rows, kinds, by = append(rows, i), append(kinds, stage.OverlayFailed), append(by, r.Changed[i])
			ts.outcome(entity, id, stage.Failed, "transform failed: "+r.Reasons[i])
		}
	}
	for _, x := range r.Extra {
		if x.Partial {
			// A piece of a split holds the columns the chain writes; the
			// others are its row's, read back when the pieces are written.
			ts.pieces = append(ts.pieces, piece{from: strings.Clone(ids.Value(x.From)), record: x.Record})
			continue
		}
		ts.added[x.Stream] = append(ts.added[x.Stream], x.Record)
		ts.addedTo[x.Stream] = true
	}
	if len(rows) == 0 {
		return nil
	}
	// Out's dropped and failed rows are null, id included: the ids are the
	// input's.
	rec, err := overlayRows(r.Out, in.Column(0), rows, kinds, by)
	if err != nil {
		return err
	}
	defer rec.Release()
	return put(rec)
}

func (ts *transformStream) outcome(entity, id, outcome, reason string) {
	if entity == "" {
		return // a stream that is not loaded as such (ticket events)
	}
	// id shares the batch's memory, which is released before the ledger
	// is written.
	ts.outcomes = append(ts.outcomes, stage.Outcome{Entity: entity, SourceID: strings.Clone(id), Outcome: outcome, Reason: reason, Stage: "transform", RunID: ts.runID})
}

// completePieces makes whole records of the pieces of splits: each
// piece's columns over the record it came from, as staged.
func (ts *transformStream) completePieces(ctx context.Context) error {
	if len(ts.pieces) == 0 {
		return nil
	}
	from := map[string][]json.RawMessage{}
	var ids []any
	for _, p := range ts.pieces {
		if _, ok := from[p.from]; !ok {
			ids = append(ids, p.from)
		}
		from[p.from] = append(from[p.from], p.record)
	}
	for chunk := range slices.Chunk(ids, 1000) {
		where := "id IN (?" + strings.Repeat(", ?", len(chunk)-1) + ")"
		err := ts.env.Workspace.Records(ctx, stage.Select{Stream: ts.stream, Where: where, Args: chunk}, func(r schema.Record) error {
			base, err := json.Marshal(r)
			if err != nil {
				return err
			}
			for _, rec := range from[r.SourceID()] {
				var members map[string]json.RawMessage
				if err := json.Unmarshal(rec, &members); err != nil {
					return fmt.Errorf("a piece of %s: %w", r.SourceID(), err)
				}
				var patch []columnar.Member
				for _, name := range slices.Sorted(maps.Keys(members)) {
					patch = append(patch, columnar.Member{Name: name, Value: members[name]})
				}
				whole, err := columnar.Patch(base, patch)
				if err != nil {
					return fmt.Errorf("a piece of %s: %w", r.SourceID(), err)
				}
				ts.added[ts.stream] = append(ts.added[ts.stream], whole)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("complete the pieces of splits: %w", err)
		}
	}
	ts.pieces = nil
	return nil
}

// putAdded writes the records transforms added to this stream, whole.
func (ts *transformStream) putAdded(put func(arrow.RecordBatch) error) error {
	added := ts.added[ts.stream]
	if len(added) == 0 {
		return nil
	}
	b, err := schema.NewBuilder(memory.NewGoAllocator(), ts.stream)
	if err != nil {
		return err
	}
	defer b.Release()
	var bad []stage.Outcome
	for _, raw := range added {
		rec, err := schema.DecodeJSON(ts.stream, raw)
		if err != nil {
			// Nothing to hang the failure on but the text itself.
			bad = append(bad, stage.Outcome{})
			ts.env.logger().Warn("a transform added a record that is not a canonical record", "stream", ts.stream, "error", err)
			continue
		}
		if err := b.Append(rec); err != nil {
			return err
		}
	}
	ts.counts["added"] += int64(len(added) - len(bad))
	ts.counts["added but invalid"] += int64(len(bad))
	whole := b.NewRecordBatch()
	defer whole.Release()
	n := int(whole.NumRows())
	rows := make([]int, n)
	kinds := make([]string, n)
	by := make([][]string, n)
	for i := range n {
		rows[i], kinds[i] = i, stage.OverlayNew
	}
	rec, err := overlayRows(whole, whole.Column(0), rows, kinds, by)
	if err != nil {
		return err
	}
	defer rec.Release()
	return put(rec)
}

// recordOutcomes writes the ledger's skipped and failed records, but not
// over a record that is in Intercom already: a later transform's verdict
// does not undo that.
func (ts *transformStream) recordOutcomes(ctx context.Context) error {
	if len(ts.outcomes) == 0 {
		return nil
	}
	ws := ts.env.Workspace
	done, err := ws.Outcomes(ctx, ts.outcomes[0].Entity)
	if err != nil {
		return err
	}
	var record []stage.Outcome
	for _, o := range ts.outcomes {
		if done[o.SourceID] != stage.Migrated {
			record = append(record, o)
		}
	}
	if err := ws.SetOutcomes(ctx, record); err != nil {
		return fmt.Errorf("record the transforms' outcomes: %w", err)
	}
	return nil
}

// overlayRows takes rows of src (id and some of the stream's columns), with
// their ids from ids, and adds the overlay's _kind and _transforms.
func overlayRows(src arrow.RecordBatch, ids arrow.Array, rows []int, kinds []string, by [][]string) (arrow.RecordBatch, error) {
	mem := memory.NewGoAllocator()
	fields := append([]arrow.Field{}, src.Schema().Fields()...)
	fields = append(fields,
		arrow.Field{Name: "_kind", Type: arrow.BinaryTypes.String},
		arrow.Field{Name: "_transforms", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true})
	sc := arrow.NewSchema(fields, nil)
	if len(rows) == int(src.NumRows()) {
		// Every row of the batch: its columns as they are, no copy (rows
		// are in order, so they are 0, 1, ...).
		return allRows(sc, src, ids, kinds, by), nil
	}
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	for c := range int(src.NumCols()) {
		col := src.Column(c)
		if c == 0 {
			col = ids
		}
		if err := takeRows(b.Field(c), col, rows); err != nil {
			return nil, fmt.Errorf("column %s: %w", src.Schema().Field(c).Name, err)
		}
	}
	kb := b.Field(int(src.NumCols())).(*array.StringBuilder)
	tb := b.Field(int(src.NumCols()) + 1).(*array.ListBuilder)
	vb := tb.ValueBuilder().(*array.StringBuilder)
	for i := range rows {
		kb.Append(kinds[i])
		tb.Append(true)
		for _, sha := range by[i] {
			vb.Append(sha)
		}
	}
	return b.NewRecordBatch(), nil
}

// allRows is overlayRows for a batch whose every row goes to the overlay.
func allRows(sc *arrow.Schema, src arrow.RecordBatch, ids arrow.Array, kinds []string, by [][]string) arrow.RecordBatch {
	mem := memory.NewGoAllocator()
	kb := array.NewStringBuilder(mem)
	defer kb.Release()
	tb := array.NewListBuilder(mem, arrow.BinaryTypes.String)
	defer tb.Release()
	vb := tb.ValueBuilder().(*array.StringBuilder)
	n := len(kinds)
	kb.Reserve(n)
	tb.Reserve(n)
	for i := range n {
		kb.Append(kinds[i])
		tb.Append(true)
		for _, sha := range by[i] {
			vb.Append(sha)
		}
	}
	cols := make([]arrow.Array, 0, sc.NumFields())
	cols = append(cols, ids)
	cols = append(cols, src.Columns()[1:]...)
	k, t := kb.NewArray(), tb.NewArray()
	defer k.Release()
	defer t.Release()
	cols = append(cols, k, t)
	return array.NewRecordBatch(sc, cols, int64(n))
}

// takeRows appends the given rows of a column, of the types the canonical
// model uses, to a builder of the same type.
func takeRows(dst array.Builder, src arrow.Array, rows []int) error {
	switch s := src.(type) {
	case *array.String:
		d := dst.(*array.StringBuilder)
		for _, r := range rows {
			if s.IsNull(r) {
				d.AppendNull()
			} else {
				d.Append(s.Value(r))
			}
		}
	case *array.Boolean:
		d := dst.(*array.BooleanBuilder)
		for _, r := range rows {
			if s.IsNull(r) {
				d.AppendNull()
			} else {
				d.Append(s.Value(r))
			}
		}
	case *array.Int64:
		d := dst.(*array.Int64Builder)
		for _, r := range rows {
			if s.IsNull(r) {
				d.AppendNull()
			} else {
				d.Append(s.Value(r))
			}
		}
	case *array.Timestamp:
		d := dst.(*array.TimestampBuilder)
		for _, r := range rows {
			if s.IsNull(r) {
				d.AppendNull()
			} else {
				d.Append(s.Value(r))
			}
		}
	case *array.List:
		d := dst.(*array.ListBuilder)
		vals, ok := s.ListValues().(*array.String)
		if !ok {
			return fmt.Errorf("a list of %s", s.ListValues().DataType())
		}
		vb := d.ValueBuilder().(*array.StringBuilder)
		for _, r := range rows {
			if s.IsNull(r) {
				d.AppendNull()
				continue
			}
			d.Append(true)
			start, end := s.ValueOffsets(r)
			for j := start; j < end; j++ {
				vb.Append(vals.Value(int(j)))
			}
		}
	default:
		return fmt.Errorf("unsupported type %s", src.DataType())
	}
	return nil
}
