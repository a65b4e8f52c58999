package transform

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"unsafe"

	"github.com/ferryhq/ferry/sdk/transform/columnar"
)

// BatchHandler transforms the rows of a columnar batch together, a column at
// a time, for a transform whose work on a record is a few steps over a few
// string columns (a prefix put on the subject, a status looked up in a
// table). Register it from a [Setup] with [Context.HandleBatches].
//
// Why: inside a module every call and every branch costs several times what
// it costs natively, and a record handler pays for its calls once per
// record (the handler itself, each getter and setter, its Result). A batch
// handler loops over the columns and sets values straight into the reply:
// inside a module a record costs legacy-id-subject and map-values about 40%
// of what it costs their record handlers (BenchmarkColumnarRecord).
//
// It adds to the record [Handler], never replaces it. A row the batch
// handler cannot settle, or need not settle quickly (a value to refuse with
// a reason, a record to drop, split or emit), it hands to the Handler with
// [Batch.Pass]; the Handler also serves the JSON format's batches, and
// every batch when the BatchHandler panics. So the two must agree on every
// record, and sdk/transform/transformtest checks that they do on each batch
// a test runs.
type BatchHandler func(ctx *Context, b *Batch)

// HandleBatches registers, in a [Setup], a handler for columnar batches
// beside the Setup's record handler (see [BatchHandler]). It panics outside
// a Setup, as that is a programming error.
func (c *Context) HandleBatches(h BatchHandler) {
	if c.columns == nil {
		panic("transform: HandleBatches outside a Setup")
	}
	c.batchHandler = h
}

// Batch is a columnar batch as a [BatchHandler] sees it: Len rows of
// ctx.Stream(), with the columns the transform declared. Rows it neither
// sets nor passes are kept unchanged. A Batch and everything it returns are
// valid during the call only.
type Batch struct {
	in    *Instance
	rows  int
	state []uint8 // by row: rowKept, rowChanged or rowPassed
	// setters are the batch's String setters, by written column.
	setters []StringSetter
	passed  bool
}

// Row states of a batch handler's rows.
const (
	rowKept uint8 = iota
	rowChanged
	rowPassed
)

// Len returns the batch's number of rows.
func (b *Batch) Len() int { return b.rows }

// Strings returns a declared string column (subject, status, ...) for
// reading; ok is false when the batch has no such column: not declared,
// or not a column of strings.
func (b *Batch) Strings(name string) (s Strings, ok bool) {
	i := b.in.view.lookup(name)
	if i < 0 || b.in.view.cols[i].Type != columnar.String {
		return Strings{}, false
	}
	return Strings{&b.in.view.cols[i]}, true
}

// IDs returns the rows' ids.
func (b *Batch) IDs() Strings {
	s, _ := b.Strings("id")
	return s
}

// Setter returns the setter of a string column the transform declared as
// written; ok is false when the batch has no such column.
func (b *Batch) Setter(name string) (s *StringSetter, ok bool) {
	i := b.in.view.lookup(name)
	if i < 0 || b.in.view.write[i] < 0 || b.in.view.cols[i].Type != columnar.String {
		return nil, false
	}
	return &b.setters[b.in.view.write[i]], true
}

// Pass hands row i to the record [Handler], which decides what becomes of
// it after the batch handler returns; what the batch handler set in the
// row is forgotten.
func (b *Batch) Pass(i int) {
	b.state[i] = rowPassed
	b.passed = true
}

// PassAll hands every row to the record [Handler], as [Batch.Pass] does:
// for a batch the batch handler has nothing to gain on.
func (b *Batch) PassAll() {
	for i := range b.state {
		b.state[i] = rowPassed
	}
	b.passed = true
}

// Strings is a column of strings of a [Batch]. A null row reads as "".
type Strings struct{ c *columnar.Column }

// At returns row i's value, sharing the batch's memory: it is valid during
// the call only (copy it to keep it).
func (s Strings) At(i int) string { return s.c.Str(i) }

// Null reports whether row i is null (it reads as "").
func (s Strings) Null(i int) bool { return s.c.IsNull(i) }

// StringSetter sets the values of one written string column of a [Batch],
// row by row in increasing order.
type StringSetter struct {
	b    *Batch
	col  *columnar.Column
	last int // the last row set, or -1
	at   []columnar.StringAt
	data []byte
}

// Set sets row i to v, copying it. Setting what the row holds already is no
// change (an empty string is null). Rows must be set in increasing order,
// each at most once: Set panics otherwise, as that is a programming error.
func (s *StringSetter) Set(i int, v []byte) {
	s.SetString(i, unsafe.String(unsafe.SliceData(v), len(v)))
}

// SetString is Set with a string.
func (s *StringSetter) SetString(i int, v string) {
	if i <= s.last {
		s.outOfOrder(i)
	}
	s.last = i
	if v == s.col.Str(i) {
		return
	}
	at := int32(len(s.data))
	s.data = append(s.data, v...)
	s.at = append(s.at, columnar.StringAt{Row: int32(i), Start: at, End: int32(len(s.data))})
	if s.b.state[i] == rowKept {
		s.b.state[i] = rowChanged
	}
}

// outOfOrder panics for a row set out of order; it is out of line so that
// the setters stay small.
//
//go:noinline
func (s *StringSetter) outOfOrder(i int) {
	panic(fmt.Sprintf("transform: StringSetter: row %d set after row %d", i, s.last))
}

// SetNull sets row i to null, as Set does.
func (s *StringSetter) SetNull(i int) {
	if i <= s.last {
		s.outOfOrder(i)
	}
	s.last = i
	if s.col.Offsets[i] == s.col.Offsets[i+1] {
		return // null or empty already
	}
	s.at = append(s.at, columnar.StringAt{Row: int32(i), Start: -1})
	if s.b.state[i] == rowKept {
		s.b.state[i] = rowChanged
	}
}

// SetBatchHandler turns the transform's [BatchHandler] on or off for the
// batches that follow, and reports whether the transform has one: a test
// checks the batch handler against the record handler by running a batch
// both ways (sdk/transform/transformtest does). It is on by default.
func (in *Instance) SetBatchHandler(on bool) (has bool) {
	in.batchOff = !on
	return in.batchHandler != nil
}

// runBatch runs the batch handler over the batch in in.view, leaving each
// row's state in in.batch.state and the values it set in in.strs and
// in.strData, in row order, without those of the rows it passed. When the
// handler panics, every row is passed.
func (in *Instance) runBatch(ctx *Context, rows int) {
	v := &in.view
	b := &in.batch
	b.in, b.rows, b.passed = in, rows, false
	b.state = slices.Grow(b.state[:0], rows)[:rows]
	clear(b.state)
	b.setters = b.setters[:0]
	for k, col := range v.written {
		b.setters = append(b.setters, StringSetter{b: b, col: &v.cols[col], last: -1, at: in.strs[k][:0], data: in.strData[k][:0]})
	}
	// Emit belongs to a record handler: from a batch handler it panics, and
	// the record handler takes the batch.
	ctx.batch = false
	msg, stack := in.callBatch(ctx, b)
	ctx.batch = true
	if msg != "" {
		ctx.Log(slog.LevelError, "transform panicked in its batch handler, so its record handler took the batch: "+msg+"\n"+string(stack))
		b.PassAll()
	}
	for k := range b.setters {
		s := &b.setters[k]
		if b.passed {
			s.at = slices.DeleteFunc(s.at, func(a columnar.StringAt) bool { return b.state[a.Row] == rowPassed })
		}
		in.strs[k], in.strData[k] = s.at, s.data
		s.at, s.data, s.col = nil, nil, nil
	}
}

// batchRows writes the outcomes of a batch the batch handler ran over, in
// row order, running the record handler on the rows it passed; then the
// values those set, noted after the batch handler's, are put in row order.
func (in *Instance) batchRows(ctx *Context, rec *Record, w *columnar.ReplyWriter, rows int) {
	b := &in.batch
	logged := false
	for i, st := range b.state[:rows] {
		switch st {
		case rowKept:
			w.Row(columnar.Keep, "")
		case rowChanged:
			w.Row(columnar.KeepChanged, "")
		default:
			in.recordRows(ctx, rec, w, i, i+1, &logged)
		}
	}
	if b.passed {
		for k := range in.strs {
			slices.SortFunc(in.strs[k], func(a, b columnar.StringAt) int { return int(a.Row - b.Row) })
		}
	}
}

// callBatch runs the batch handler; a panic is returned, not raised.
func (in *Instance) callBatch(ctx *Context, b *Batch) (msg string, stack []byte) {
	defer func() {
		if v := recover(); v != nil {
			msg, stack = fmt.Sprintf("panic: %v", v), debug.Stack()
		}
	}()
	in.batchHandler(ctx, b)
	return "", nil
}
