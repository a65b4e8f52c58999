package transform

import (
	"fmt"
	"log/slog"
	"math/bits"
	"runtime/debug"

	"github.com/ferryhq/ferry/sdk/transform/columnar"
)

// colChange is a value a row set in a written column.
type colChange struct {
	row int32
	v   columnar.Value
}

// transformColumnar runs the handler over a columnar batch (package
// columnar) and returns the columnar reply.
//
// Inside a module every branch and every call costs, far more than natively
// (wazero checks for a deadline at each loop header, and Go's wasm code
// loops back to a function's entry for every jump), so the path of a record
// is kept short: one Record and one Context serve the whole batch, moving
// from row to row; a row kept unchanged costs an outcome byte; the values a
// row sets are noted, and the reply's columns built once at the end, column
// by column; and a panic is recovered once for the batch, not once per row.
func (in *Instance) transformColumnar(data []byte) []byte {
	b, err := columnar.ReadBatch(data)
	if err != nil {
		return errorReply(fmt.Sprintf("decode batch: %v", err))
	}
	dc := in.columns[b.Stream]
	if dc == nil || dc.whole {
		return errorReply(fmt.Sprintf("a columnar batch of %s, for which the transform declared no columns", b.Stream))
	}
	v := &in.view
	if err := v.reset(b, dc); err != nil {
		return errorReply(fmt.Sprintf("decode batch: %v", err))
	}
	w := &in.reply
	w.Reset(v.written, v.types)
	for len(in.changes) < len(v.written) {
		in.changes, in.strs, in.strData = append(in.changes, nil), append(in.strs, nil), append(in.strData, nil)
	}
	for k := range v.written {
		in.changes[k], in.strs[k], in.strData[k] = in.changes[k][:0], in.strs[k][:0], in.strData[k][:0]
	}
	ctx := &in.ctx
	*ctx = Context{stream: b.Stream, config: in.config, log: in.log, batch: true, emits: ctx.emits[:0]}
	rec := &in.rec
	*rec = Record{cv: v, cells: rec.cells[:0]}
	for range v.written {
		rec.cells = append(rec.cells, cell{})
	}
	if in.batchHandler != nil && !in.batchOff {
		in.runBatch(ctx, b.Rows)
		in.batchRows(ctx, rec, w, b.Rows)
	} else {
		logged := false
		in.recordRows(ctx, rec, w, 0, b.Rows, &logged)
	}
	for k, col := range v.written {
		if v.cols[col].Type == columnar.String {
			if len(in.strs[k]) > 0 {
				w.Column(k).FillSparseStrings(b.Rows, in.strs[k], in.strData[k])
			}
			continue
		}
		in.fillColumn(w.Column(k), in.changes[k], b.Rows, &v.cols[col])
	}
	// Nothing of this batch may outlive it through the reused state.
	clear(rec.cells)
	*rec = Record{cells: rec.cells[:0]}
	clear(ctx.emits[:cap(ctx.emits)])
	for k := range v.written {
		clear(in.changes[k])
	}
	return w.Bytes()
}

// recordRows runs the record handler on rows from to n-1, in order, failing
// a row that panics; logged says whether a panic of this batch was logged.
func (in *Instance) recordRows(ctx *Context, rec *Record, w *columnar.ReplyWriter, from, n int, logged *bool) {
	for from < n {
		i, msg, stack := in.rows(ctx, rec, w, from, n)
		if i < 0 {
			return
		}
		if !*logged {
			// One stack per batch is enough to find the bug, and a panic
			// on every record must not flood ferry's log.
			*logged = true
			ctx.Log(slog.LevelError, "transform panicked: "+msg+"\n"+string(stack))
		}
		rec.set, rec.misuse, in.view.scratch = 0, "", in.view.scratch[:0]
		in.finishRow(w, rec, i, Fail(msg), nil)
		from = i + 1
	}
}

// rows runs the handler on rows from to n-1, in order. A panic stops it: it
// returns the row that panicked, the panic and its stack, or -1 when every
// row ran.
func (in *Instance) rows(ctx *Context, rec *Record, w *columnar.ReplyWriter, from, n int) (panicked int, msg string, stack []byte) {
	i := from
	defer func() {
		if v := recover(); v != nil {
			panicked, msg, stack = i, fmt.Sprintf("panic: %v", v), debug.Stack()
		}
	}()
	h := in.handler
	view := rec.cv
	for ; i < n; i++ {
		rec.row, rec.set = i, 0
		if len(view.scratch) > 0 {
			view.scratch = view.scratch[:0]
		}
		if rec.misuse != "" {
			rec.misuse = ""
		}
		if len(ctx.emits) > 0 {
			ctx.emits = ctx.emits[:0]
		}
		res := h(ctx, rec)
		if res.outcome == OutcomeKeep && res.record == rec && rec.misuse == "" && len(ctx.emits) == 0 {
			// The commonest cases, kept shortest: the row kept, as it is
			// or with values set.
			o := columnar.Keep
			if rec.set != 0 && in.noteChanges(rec, i) {
				o = columnar.KeepChanged
			}
			w.Row(o, "")
			continue
		}
		in.finishRow(w, rec, i, res, ctx.emits)
	}
	return -1, "", nil
}

// finishRow notes row i's result: its outcome in the reply, the values it
// set, the pieces of its split and the records it emitted.
func (in *Instance) finishRow(w *columnar.ReplyWriter, rec *Record, i int, res Result, emits []emitted) {
	if res.outcome == OutcomeKeep && res.record == rec && rec.misuse == "" && len(emits) == 0 {
		// The common case, kept short: the row itself, kept.
		o := columnar.Keep
		if rec.set != 0 && in.noteChanges(rec, i) {
			o = columnar.KeepChanged
		}
		w.Row(o, "")
		return
	}
	msg := rec.misuse
	if msg == "" {
		msg = res.invalid(emits)
	}
	if msg != "" {
		res = Fail(msg)
	}
	if res.outcome == OutcomeKeep && !(res.record.cv == rec.cv && res.record.row == i) {
		// A record other than the row (one built with NewRecord, say)
		// replaces it: a split into that one record.
		res = Split(res.record)
	}
	switch res.outcome {
	case OutcomeKeep:
		// The row itself, or a clone of it, with what was set in it.
		o := columnar.Keep
		if res.record.set != 0 && in.noteChanges(res.record, i) {
			o = columnar.KeepChanged
		}
		w.Row(o, "")
	case OutcomeDrop:
		w.Row(columnar.Drop, orDefault(res.reason, "dropped by the transform"))
	case OutcomeError:
		w.Row(columnar.Error, orDefault(res.reason, "failed by the transform without a reason"))
		return // a failed record adds nothing
	case OutcomeSplit:
		w.Row(columnar.Split, "")
		for _, p := range res.records {
			w.AddPiece(i, p.appendPiece(nil))
		}
	}
	for _, e := range emits {
		w.AddRecord(i, e.stream, e.record.appendJSON(nil))
	}
}

// noteChanges notes the values r set that differ from row i's, and reports
// whether there was one: a transform that sets what is there does not
// change the record.
func (in *Instance) noteChanges(r *Record, i int) bool {
	changed := false
	for set := r.set; set != 0; set &= set - 1 {
		k := bits.TrailingZeros64(set)
		v := &r.cells[k].v
		c := &in.view.cols[in.view.written[k]]
		if c.Type == columnar.String {
			if !v.Null && !c.IsNull(i) {
				// The common case inline: a string replaced.
				if v.Str == c.Str(i) {
					continue
				}
			} else if unchanged(c, i, *v) {
				continue
			}
			at := columnar.StringAt{Row: int32(i), Start: -1}
			if !v.Null {
				at.Start = int32(len(in.strData[k]))
				in.strData[k] = append(in.strData[k], v.Str...)
				at.End = int32(len(in.strData[k]))
			}
			in.strs[k] = append(in.strs[k], at)
			changed = true
			continue
		}
		if unchanged(c, i, *v) {
			continue
		}
		in.changes[k] = append(in.changes[k], colChange{row: int32(i), v: *v})
		changed = true
	}
	return changed
}

// fillColumn builds a written column of the reply from the changes noted,
// in row order: a value for each row that set one, unset for the others. A
// column no row changed stays empty, and the reply leaves it out.
func (in *Instance) fillColumn(b *columnar.Builder, changes []colChange, rows int, c *columnar.Column) {
	if len(changes) == 0 {
		return
	}
	size := 0
	for _, ch := range changes {
		size += len(ch.v.Str)
	}
	b.Grow(rows, size)
	next := 0
	for r := range rows {
		if next < len(changes) && int(changes[next].row) == r {
			b.AppendValue(changes[next].v)
			next++
			continue
		}
		b.AppendUnset()
	}
}

// appendPiece appends the record as a piece of a split: in the columnar
// form, the id and the columns written (the others are the row's); in the
// JSON form, the record as it is.
func (r *Record) appendPiece(b []byte) []byte {
	if r.cv != nil {
		return r.colAppendJSON(b, true)
	}
	return r.appendJSON(b)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
