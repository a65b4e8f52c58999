package transform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ferryhq/ferry/sdk/transform/columnar"
)

// maxChain bounds the modules of a chain ApplyArrow runs: a row's
// provenance is a bit per module.
const maxChain = 64

// streamPlan is what ApplyArrow does with a stream's batches, worked out once
// per chain: the columns it keeps in flight and the modules it runs.
type streamPlan struct {
	stream string
	canon  []canonColumn
	whole  bool
	// cols are the columns in flight, as indexes into canon: the id, then
	// in schema order those any module reads or writes (all when whole).
	cols []int
	// write are the columns Out holds besides the id, as indexes into cols.
	write []int
	steps []step
}

// step is one module of the chain, as it runs on a stream.
type step struct {
	k     int // the module's place in the chain: its provenance bit
	m     *Module
	whole bool
	// cols are the columns the module is sent, as indexes into the plan's
	// cols, id first; written flags those it may change.
	cols    []int
	written []bool
	write   []string
}

func newPlan(stream string, modules []*Module) (*streamPlan, error) {
	canon, err := canonical(stream)
	if err != nil {
		return nil, err
	}
	p := &streamPlan{stream: stream, canon: canon}
	read, write := map[string]bool{"id": true}, map[string]bool{}
	for k, m := range modules {
		acc := m.Access(stream)
		if acc.Skip {
			continue
		}
		p.whole = p.whole || acc.Whole
		for _, c := range acc.Read {
			read[c] = true
		}
		for _, c := range acc.Write {
			write[c] = true
		}
		p.steps = append(p.steps, step{k: k, m: m, whole: acc.Whole, write: acc.Write})
	}
	pos := map[string]int{}
	for i, c := range canon {
		name := c.field.Name
		if !p.whole && !read[name] {
			continue
		}
		pos[name] = len(p.cols)
		p.cols = append(p.cols, i)
		if i > 0 && (p.whole || write[name]) {
			p.write = append(p.write, pos[name])
		}
	}
	for s := range p.steps {
		st := &p.steps[s]
		if st.whole {
			continue
		}
		for _, name := range st.m.Access(stream).Read {
			st.cols = append(st.cols, pos[name])
			st.written = append(st.written, slices.Contains(st.write, name))
		}
	}
	return p, nil
}

// ApplyArrow runs one Arrow batch of stream through every module of the
// chain that handles the stream, in order, and says what became of each
// row. in holds the id and the columns [Chain.Columns] says, by name
// (others are ignored); each module is sent just the columns it declared,
// copied from in's buffers into its memory in the columnar format (or whole
// records as JSON, for a module that reads them). Concurrent calls run on
// different instances of each module, so that callers on several
// goroutines keep as many cores busy.
//
// A batch a module fails as a whole fails the rows it was sent, with the
// reason, and the next batch runs on a fresh instance: the error is for what
// is not the batch's doing (in lacking a column or of the wrong types, ctx
// done, a module closed or unable to start). The caller releases in, and
// the result's Out.
func (c *Chain) ApplyArrow(ctx context.Context, stream string, in arrow.RecordBatch) (*BatchResult, error) {
	p, ok := c.plans[stream]
	if !ok {
		return nil, fmt.Errorf("transform %s: not a canonical stream", stream)
	}
	if len(c.modules) > maxChain {
		return nil, fmt.Errorf("transform %s: a chain of %d modules is over the %d ApplyArrow runs", stream, len(c.modules), maxChain)
	}
	t, err := newTable(p, in)
	if err != nil {
		return nil, fmt.Errorf("transform %s: %w", stream, err)
	}
	for i := range p.steps {
		st := &p.steps[i]
		sel := t.selection()
		if sel != nil && len(sel) == 0 {
			break
		}
		if st.whole {
			err = t.runWhole(ctx, st, sel)
		} else {
			err = t.runColumnar(ctx, st, sel)
		}
		if err != nil {
			return nil, err
		}
	}
	return t.result()
}

// table is one batch in flight through a chain: the input rows, then the
// pieces of splits, as columns. Rows are working rows; an input row is the
// origin of itself and of the pieces it was split into.
type table struct {
	p *streamPlan
	n int // input rows
	// cols are the plan's columns; src[i] is the input array cols[i] still
	// is, or nil once a module changed it.
	cols []columnar.Column
	src  []arrow.Array
	// By working row: its origin, whether it goes on, the module whose
	// split made it (-1 for an input row).
	origin []int32
	alive  []bool
	madeBy []int
	// all is true while every row is an input row that goes on.
	all bool
	// By input row: the modules that changed it (a bit each), and why it
	// failed or was first dropped.
	changed []uint64
	failed  []string
	dropped []string
	emitted []ExtraRecord
}

func newTable(p *streamPlan, in arrow.RecordBatch) (*table, error) {
	n := int(in.NumRows())
	t := &table{
		p: p, n: n, all: true,
		cols:    make([]columnar.Column, len(p.cols)),
		src:     make([]arrow.Array, len(p.cols)),
		origin:  make([]int32, n),
		alive:   make([]bool, n),
		madeBy:  make([]int, n),
		changed: make([]uint64, n),
	}
	for i := range n {
		t.origin[i], t.alive[i], t.madeBy[i] = int32(i), true, -1
	}
	sc := in.Schema()
	for pos, ci := range p.cols {
		c := p.canon[ci]
		idx := sc.FieldIndices(c.field.Name)
		if len(idx) == 0 {
			return nil, fmt.Errorf("the batch has no column %s, which the chain needs", c.field.Name)
		}
		arr := in.Column(idx[0])
		col, err := fromArrow(arr, c.typ, c.field.Name)
		if err != nil {
			return nil, err
		}
		t.cols[pos], t.src[pos] = col, arr
	}
	if t.cols[0].Valid != nil {
		return nil, errors.New("the batch has rows without an id")
	}
	return t, nil
}

// rows returns the working rows.
func (t *table) rows() int { return len(t.origin) }

// selection returns the rows that go on, or nil when they are all the input rows.
func (t *table) selection() []int32 {
	if t.all {
		return nil
	}
	sel := []int32{}
	for r, ok := range t.alive {
		if ok {
			sel = append(sel, int32(r))
		}
	}
	return sel
}

// fail fails row r's origin with the reason, unless it failed already, and
// stops r.
func (t *table) fail(r int, k int, reason string) {
	o := t.origin[r]
	if t.failed == nil {
		t.failed = make([]string, t.n)
	}
	if t.failed[o] == "" {
		t.failed[o] = reason
	}
	t.changed[o] |= 1 << k
	t.alive[r], t.all = false, false
}

// drop drops row r, recording the reason if it is its origin's first.
func (t *table) drop(r int, k int, reason string) {
	o := t.origin[r]
	if t.dropped == nil {
		t.dropped = make([]string, t.n)
	}
	if t.dropped[o] == "" {
		t.dropped[o] = reason
	}
	t.changed[o] |= 1 << k
	t.alive[r], t.all = false, false
}

// stopFailed stops the pieces whose origin failed: once one record an
// input row became fails, the row has failed.
func (t *table) stopFailed() {
	if t.failed == nil || t.rows() == t.n {
		return
	}
	for r, ok := range t.alive {
		if ok && t.failed[t.origin[r]] != "" {
			t.alive[r] = false
		}
	}
}

// rowOf maps a row of a module's batch to the working row.
func rowOf(sel []int32, j int) int {
	if sel == nil {
		return j
	}
	return int(sel[j])
}

// pending is a piece a split adds, as values of the table's columns; a
// column it does not set is its parent's.
type pending struct {
	parent int
	k      int
	set    map[int]columnar.Value // by table column
}

// runColumnar runs a module that declared its columns on the rows sel.
func (t *table) runColumnar(ctx context.Context, st *step, sel []int32) error {
	cols := make([]columnar.Column, len(st.cols))
	for j, pos := range st.cols {
		cols[j] = t.cols[pos]
		cols[j].Written = st.written[j]
	}
	reply, extras, err := st.m.applyColumns(ctx, t.p.stream, cols, sel)
	var failed *batchFailure
	if errors.As(err, &failed) {
		count := t.n
		if sel != nil {
			count = len(sel)
		}
		for j := range count {
			t.fail(rowOf(sel, j), st.k, failed.reason)
		}
		t.stopFailed()
		return nil
	}
	if err != nil {
		return err
	}
	bit := uint64(1) << st.k
	t.refuseNewIDs(st, reply, sel)
	for j, o := range reply.Outcomes {
		r := rowOf(sel, j)
		switch o {
		case columnar.KeepChanged:
			for c := range reply.Columns {
				if reply.Columns[c].IsSet(j) {
					t.changed[t.origin[r]] |= bit
					break
				}
			}
		case columnar.Drop:
			t.drop(r, st.k, reason(reply.Reason(j), "dropped by the transform"))
		case columnar.Error:
			t.fail(r, st.k, reason(reply.Reason(j), "failed by the transform without a reason"))
		case columnar.Split:
			t.changed[t.origin[r]] |= bit
			t.alive[r], t.all = false, false
		}
	}
	for c := range reply.Columns {
		rc := &reply.Columns[c]
		t.merge(st.cols[rc.Index], rc, reply.Outcomes, sel)
	}
	var pieces []pending
	for _, x := range extras {
		r := rowOf(sel, x.Row)
		if x.Stream != "" {
			t.emitted = append(t.emitted, ExtraRecord{From: int(t.origin[r]), Stream: x.Stream, Record: x.Record, Module: st.m.sha})
			continue
		}
		p, err := t.pieceOf(r, st, x.Record)
		if err != nil {
			t.fail(r, st.k, fmt.Sprintf("transform %s: %v", st.m.name, err))
			continue
		}
		pieces = append(pieces, p)
	}
	t.addPieces(pieces)
	t.stopFailed()
	return nil
}

// refuseNewIDs fails the rows a module kept with another id: the id is how
// ferry finds a record in the workspace, the ledger and Intercom, and a new
// id is a new record, which only a split makes (a module that declares id
// as written may give pieces their own). The rows become errors in the
// reply, so that nothing of them is merged.
func (t *table) refuseNewIDs(st *step, reply *columnar.Reply, sel []int32) {
	for c := range reply.Columns {
		rc := &reply.Columns[c]
		if st.cols[rc.Index] != 0 {
			continue
		}
		for j, o := range reply.Outcomes {
			if o != columnar.KeepChanged || !rc.IsSet(j) {
				continue
			}
			r := rowOf(sel, j)
			if id, to := t.cols[0].Str(r), rc.Str(j); rc.IsNull(j) || to != id {
				t.fail(r, st.k, fmt.Sprintf("transform %s: changed the record's id from %s to %q; a transform that makes new records splits", st.m.name, id, to))
				reply.Outcomes[j] = columnar.Error
			}
		}
	}
}

// pieceOf reads a piece of row r's split: its members for the columns the
// module writes replace r's values.
func (t *table) pieceOf(r int, st *step, record json.RawMessage) (pending, error) {
	changes, err := columnar.PieceChanges(record, st.write)
	if err != nil {
		return pending{}, err
	}
	p := pending{parent: r, k: st.k, set: map[int]columnar.Value{}}
	for _, ch := range changes {
		for j, pos := range st.cols {
			if t.cols[pos].Name != ch.Name || !st.written[j] {
				continue
			}
			v, err := columnar.ParseValue(t.cols[pos].Type, ch.Value)
			if err != nil {
				return pending{}, fmt.Errorf("piece of a split: column %s: %w", ch.Name, err)
			}
			p.set[pos] = v
		}
	}
	return p, nil
}

// merge takes into column pos the values a reply column sets on the rows
// kept changed.
func (t *table) merge(pos int, rc *columnar.ReplyColumn, outcomes []columnar.Outcome, sel []int32) {
	take := func(j int) bool { return outcomes[j] == columnar.KeepChanged && rc.IsSet(j) }
	all, any := true, false
	for j := range outcomes {
		if take(j) {
			any = true
		} else {
			all = false
		}
	}
	switch {
	case !any:
		return
	case all && sel == nil:
		// Every row changed: the reply's column is the new column.
		name := t.cols[pos].Name
		t.cols[pos] = rc.Column
		t.cols[pos].Name = name
		t.src[pos] = nil
		return
	}
	from := make([]int32, t.rows()) // the reply row each working row takes, or -1
	for r := range from {
		from[r] = -1
	}
	for j := range outcomes {
		if take(j) {
			from[rowOf(sel, j)] = int32(j)
		}
	}
	old := &t.cols[pos]
	b := columnar.NewBuilder(old.Type)
	b.Grow(t.rows(), len(old.Data)+len(rc.Data))
	for r, j := range from {
		if j >= 0 {
			b.AppendFrom(&rc.Column, int(j))
		} else {
			b.AppendFrom(old, r)
		}
	}
	t.cols[pos] = b.Column(old.Name)
	t.src[pos] = nil
}

// override replaces whole rows' values: by working row, a value per table column.
func (t *table) override(rows map[int][]columnar.Value) {
	if len(rows) == 0 {
		return
	}
	for pos := range t.cols {
		old := &t.cols[pos]
		b := columnar.NewBuilder(old.Type)
		b.Grow(t.rows(), len(old.Data))
		for r := range t.rows() {
			if vals, ok := rows[r]; ok {
				b.AppendValue(vals[pos])
			} else {
				b.AppendFrom(old, r)
			}
		}
		t.cols[pos] = b.Column(old.Name)
		t.src[pos] = nil
	}
}

// addPieces appends the pieces of splits as new working rows.
func (t *table) addPieces(pieces []pending) {
	if len(pieces) == 0 {
		return
	}
	for pos := range t.cols {
		old := &t.cols[pos]
		b := columnar.NewBuilder(old.Type)
		b.Grow(t.rows()+len(pieces), len(old.Data))
		for r := range t.rows() {
			b.AppendFrom(old, r)
		}
		for _, p := range pieces {
			if v, ok := p.set[pos]; ok {
				b.AppendValue(v)
			} else {
				b.AppendFrom(old, p.parent)
			}
		}
		t.cols[pos] = b.Column(old.Name)
		t.src[pos] = nil
	}
	for _, p := range pieces {
		t.origin = append(t.origin, t.origin[p.parent])
		t.alive = append(t.alive, true)
		t.madeBy = append(t.madeBy, p.k)
	}
	t.all = false
}

// runWhole runs a module that reads whole records on the rows sel: they go
// to it as JSON, and what it keeps changed or splits comes back into the
// table (whole, so every column is in it).
func (t *table) runWhole(ctx context.Context, st *step, sel []int32) error {
	count := t.n
	if sel != nil {
		count = len(sel)
	}
	records := make([]json.RawMessage, count)
	for j := range count {
		records[j] = t.rowJSON(rowOf(sel, j), true)
	}
	results, err := st.m.Apply(ctx, t.p.stream, records)
	if err != nil {
		return err
	}
	bit := uint64(1) << st.k
	changes := map[int][]columnar.Value{}
	var pieces []pending
	for j, res := range results {
		r := rowOf(sel, j)
		o := t.origin[r]
		switch res.Outcome {
		case Keep:
			// A record kept as it came in is unchanged; the SDK sends such
			// records back byte for byte.
			if bytes.Equal(res.Records[0], records[j]) {
				break
			}
			vals, err := t.parseRecord(res.Records[0])
			if err != nil {
				t.fail(r, st.k, fmt.Sprintf("transform %s: kept a record that is not a canonical %s record: %v", st.m.name, t.p.stream, err))
				break
			}
			if id := t.cols[0].Str(r); vals[0].Str != id {
				// The id is how ferry finds the record in the workspace, the
				// ledger and Intercom: a new id is a new record (a split).
				t.fail(r, st.k, fmt.Sprintf("transform %s: changed the record's id from %s to %s; a transform that makes new records splits", st.m.name, id, vals[0].Str))
				break
			}
			changes[r] = vals
			t.changed[o] |= bit
		case Drop:
			t.drop(r, st.k, res.Reason)
		case Error:
			t.fail(r, st.k, res.Reason)
		case Split:
			t.changed[o] |= bit
			t.alive[r], t.all = false, false
			for _, rec := range res.Records {
				vals, err := t.parseRecord(rec)
				if err != nil {
					t.fail(r, st.k, fmt.Sprintf("transform %s: split into a record that is not a canonical %s record: %v", st.m.name, t.p.stream, err))
					break
				}
				p := pending{parent: r, k: st.k, set: make(map[int]columnar.Value, len(vals))}
				for pos, v := range vals {
					p.set[pos] = v
				}
				pieces = append(pieces, p)
			}
		}
		for _, x := range res.Extra {
			x.From = int(o)
			t.emitted = append(t.emitted, x)
		}
	}
	t.override(changes)
	t.addPieces(pieces)
	t.stopFailed()
	return nil
}

// rowJSON returns working row r as a JSON object of the table's columns;
// omitNull leaves null columns out, as the canonical JSON form does.
func (t *table) rowJSON(r int, omitNull bool) json.RawMessage {
	b := []byte{'{'}
	for pos := range t.cols {
		c := &t.cols[pos]
		if omitNull && c.IsNull(r) {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = columnar.AppendJSONString(b, c.Name)
		b = append(b, ':')
		b = columnar.AppendCellJSON(b, c, r)
	}
	return append(b, '}')
}

// parseRecord reads a whole record into a value per table column; a column
// it lacks is null.
func (t *table) parseRecord(raw json.RawMessage) ([]columnar.Value, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, err
	}
	vals := make([]columnar.Value, len(t.cols))
	for pos := range t.cols {
		c := &t.cols[pos]
		v, err := columnar.ParseValue(c.Type, members[c.Name])
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		vals[pos] = v
	}
	if vals[0].Null || vals[0].Str == "" {
		return nil, errors.New("no id")
	}
	return vals, nil
}

// result says what became of each input row.
func (t *table) result() (*BatchResult, error) {
	n, p := t.n, t.p
	res := &BatchResult{Outcomes: make([]Outcome, n), Reasons: make([]string, n), Changed: make([][]string, n)}
	first, count := make([]int32, n), make([]int32, n)
	for r, ok := range t.alive {
		if !ok {
			continue
		}
		o := t.origin[r]
		if count[o] == 0 {
			first[o] = int32(r)
		}
		count[o]++
	}
	// Rows changed by the same modules share their list.
	by := map[uint64][]string{}
	out := make([]int32, n) // the working row each Out row holds, or -1
	identity := true
	for i := range n {
		switch {
		case t.failed != nil && t.failed[i] != "":
			res.Outcomes[i], res.Reasons[i], out[i] = Error, t.failed[i], -1
		case count[i] == 0:
			res.Outcomes[i], out[i] = Drop, -1
			if t.dropped != nil {
				res.Reasons[i] = t.dropped[i]
			}
			if res.Reasons[i] == "" {
				res.Reasons[i] = "dropped by a transform"
			}
		case count[i] == 1:
			res.Outcomes[i], out[i] = Keep, first[i]
		default:
			res.Outcomes[i], out[i] = Split, first[i]
		}
		identity = identity && out[i] == int32(i)
		if mask := t.changed[i]; mask != 0 {
			if _, ok := by[mask]; !ok {
				for k := range maxChain {
					if mask&(1<<k) != 0 {
						by[mask] = append(by[mask], t.p.steps[t.stepOf(k)].m.sha)
					}
				}
			}
			res.Changed[i] = by[mask]
		}
	}
	outCols := append([]int{0}, p.write...)
	fields := make([]arrow.Field, len(outCols))
	arrays := make([]arrow.Array, len(outCols))
	defer func() {
		for _, a := range arrays {
			if a != nil {
				a.Release()
			}
		}
	}()
	for k, pos := range outCols {
		fields[k] = p.canon[p.cols[pos]].field
		switch {
		case identity && t.src[pos] != nil:
			// A column no module changed, of rows all kept: the input's.
			arrays[k] = t.src[pos]
			arrays[k].Retain()
		case identity:
			col := head(&t.cols[pos], n)
			arrays[k] = toArrow(normalize(col, fields[k]), fields[k])
		default:
			b := columnar.NewBuilder(t.cols[pos].Type)
			b.Grow(n, len(t.cols[pos].Data))
			for _, r := range out {
				if r < 0 {
					b.AppendNull()
				} else {
					b.AppendFrom(&t.cols[pos], int(r))
				}
			}
			arrays[k] = toArrow(normalize(b.Column(t.cols[pos].Name), fields[k]), fields[k])
		}
	}
	res.Out = arrayRecord(arrow.NewSchema(fields, nil), arrays, int64(n))
	// The pieces beyond each split row's first, then what modules emitted
	// for rows that did not fail, in input row order.
	for r, ok := range t.alive {
		o := t.origin[r]
		if !ok || int32(r) == first[o] {
			continue
		}
		rec := []byte{'{'}
		for k, pos := range outCols {
			if k > 0 {
				rec = append(rec, ',')
			}
			rec = columnar.AppendJSONString(rec, t.cols[pos].Name)
			rec = append(rec, ':')
			rec = columnar.AppendCellJSON(rec, &t.cols[pos], r)
		}
		rec = append(rec, '}')
		res.Extra = append(res.Extra, ExtraRecord{From: int(o), Stream: p.stream, Record: rec, Partial: !p.whole, Module: t.p.steps[t.stepOf(t.madeBy[r])].m.sha})
	}
	for _, x := range t.emitted {
		if res.Outcomes[x.From] != Error {
			res.Extra = append(res.Extra, x)
		}
	}
	slices.SortStableFunc(res.Extra, func(a, b ExtraRecord) int { return a.From - b.From })
	return res, nil
}

// stepOf returns the index in the plan's steps of the module at place k of
// the chain.
func (t *table) stepOf(k int) int {
	for s := range t.p.steps {
		if t.p.steps[s].k == k {
			return s
		}
	}
	return 0
}
