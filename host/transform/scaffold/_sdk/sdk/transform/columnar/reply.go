package columnar

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unsafe"
)

// ReplyWriter writes a module's reply to a batch. A module keeps one and
// reuses it batch after batch: [ReplyWriter.Reset] keeps its memory, so a
// reply costs no allocation once the buffers have grown to fit.
//
// The module ends each row, in order, with [ReplyWriter.Row]; and it builds
// each written column ([ReplyWriter.Column]), row by row or once the rows
// are done: a value for each row kept changed that set it,
// [Builder.AppendUnset] for the other rows. A column it leaves empty (or
// all unset) is left out of the reply: no row changed it.
type ReplyWriter struct {
	outcomes []byte
	// The reasons, kept apart from the rows: most rows have none.
	reasons    []reasonAt
	reasonData []byte
	reasonOff  []int32
	extras     []byte
	index      []int
	cols       []*Builder
	out        []byte
}

// reasonAt is a row's reason: reasonData up to end.
type reasonAt struct{ row, end int32 }

// Reset starts a reply whose columns are the batch's columns at the indexes
// written (columns the batch flags as written), of the given types.
func (w *ReplyWriter) Reset(index []int, types []Type) {
	w.outcomes, w.reasons, w.reasonData, w.extras = w.outcomes[:0], w.reasons[:0], w.reasonData[:0], w.extras[:0]
	w.index = append(w.index[:0], index...)
	for len(w.cols) < len(index) {
		w.cols = append(w.cols, &Builder{})
	}
	for k, t := range types {
		w.cols[k].Reset(t)
	}
}

// Column returns the builder of the k-th written column given to Reset.
func (w *ReplyWriter) Column(k int) *Builder { return w.cols[k] }

// Row ends a row with its outcome and, for a drop or an error, its reason.
func (w *ReplyWriter) Row(o Outcome, reason string) {
	w.outcomes = append(w.outcomes, byte(o))
	if reason != "" {
		w.addReason(reason)
	}
}

func (w *ReplyWriter) addReason(reason string) {
	w.reasonData = append(w.reasonData, reason...)
	w.reasons = append(w.reasons, reasonAt{row: int32(len(w.outcomes) - 1), end: int32(len(w.reasonData))})
}

// AddPiece adds a piece of row's split: a JSON object whose members replace
// the row's values of the columns the module writes.
func (w *ReplyWriter) AddPiece(row int, record []byte) {
	w.addExtra(row, "", record)
}

// AddRecord adds a record of stream that row gave rise to (a record of
// another stream, or a new one of the same): a whole JSON object in the
// canonical form.
func (w *ReplyWriter) AddRecord(row int, stream string, record []byte) {
	w.addExtra(row, stream, record)
}

func (w *ReplyWriter) addExtra(row int, stream string, record []byte) {
	if len(w.extras) == 0 {
		w.extras = append(w.extras, '[')
	} else {
		w.extras = append(w.extras, ',')
	}
	w.extras = append(w.extras, `{"row":`...)
	w.extras = strconv.AppendInt(w.extras, int64(row), 10)
	if stream != "" {
		w.extras = append(w.extras, `,"stream":`...)
		w.extras = AppendJSONString(w.extras, stream)
	}
	w.extras = append(w.extras, `,"record":`...)
	w.extras = append(w.extras, record...)
	w.extras = append(w.extras, '}')
}

// Bytes returns the reply. It shares the writer's memory until the next
// Reset or Bytes. Columns no row set are left out.
func (w *ReplyWriter) Bytes() []byte {
	type colOut struct {
		index int
		col   Column
		set   []byte
		s     sections
	}
	var cols []colOut
	for k, b := range w.cols[:len(w.index)] {
		if b.Unset() == b.Len() {
			continue // nothing set (or nothing built): the host need not look
		}
		cols = append(cols, colOut{index: w.index[k], col: b.Column(""), set: b.Set()})
	}
	l := layout{at: replyHeaderSize + replyColumnSize*len(cols)}
	take := l.take
	rows := len(w.outcomes)
	outcomes := take(rows)
	var reasonOff, reasonData section
	if len(w.reasons) > 0 {
		w.reasonOff = append(w.reasonOff[:0], 0)
		next, end := 0, int32(0)
		for r := range rows {
			if next < len(w.reasons) && int(w.reasons[next].row) == r {
				end = w.reasons[next].end
				next++
			}
			w.reasonOff = append(w.reasonOff, end)
		}
		reasonOff, reasonData = take(4*len(w.reasonOff)), take(len(w.reasonData))
	}
	extras := section{}
	if len(w.extras) > 0 {
		w.extras = append(w.extras, ']')
		extras = take(len(w.extras))
	}
	// Sections are recorded by name: set is the one the valid slot does not hold.
	setSecs := make([]section, len(cols))
	for i := range cols {
		c := &cols[i]
		if c.set != nil {
			setSecs[i] = take(len(c.set))
		}
		if c.col.Valid != nil {
			c.s.valid = take(len(c.col.Valid))
		}
		switch c.col.Type {
		case String, JSON:
			c.s.b1, c.s.b2 = take(4*len(c.col.Offsets)), take(len(c.col.Data))
		case Bool:
			c.s.b1 = take(len(c.col.Bits))
		case Int64, Timestamp:
			c.s.b1 = take(8 * len(c.col.Ints))
		case StringList:
			c.s.b1, c.s.b2, c.s.b3 = take(4*len(c.col.Offsets)), take(4*len(c.col.Elems)), take(len(c.col.Data))
		}
	}
	if cap(w.out) < l.at {
		w.out = make([]byte, l.at)
	}
	out := w.out[:l.at]
	// Padding is part of the reply: zero it all once rather than section
	// by section.
	clear(out)
	le := binary.LittleEndian
	copy(out, ReplyMagic)
	for k, v := range [9]uint32{
		uint32(rows), uint32(len(cols)), uint32(outcomes.off),
		uint32(reasonOff.off), uint32(reasonData.off), uint32(reasonData.len),
		uint32(extras.off), uint32(extras.len), 0,
	} {
		le.PutUint32(out[4+4*k:], v)
	}
	copy(out[outcomes.off:], w.outcomes)
	if len(w.reasons) > 0 {
		putInt32s(out[reasonOff.off:], w.reasonOff)
		copy(out[reasonData.off:], w.reasonData)
	}
	copy(out[extras.off:], w.extras)
	for i := range cols {
		c := &cols[i]
		d := out[replyHeaderSize+replyColumnSize*i:]
		for k, v := range [12]uint32{
			uint32(c.index), uint32(setSecs[i].off), uint32(setSecs[i].len),
			uint32(c.s.valid.off), uint32(c.s.valid.len),
			uint32(c.s.b1.off), uint32(c.s.b1.len), uint32(c.s.b2.off), uint32(c.s.b2.len), uint32(c.s.b3.off), uint32(c.s.b3.len), 0,
		} {
			le.PutUint32(d[4*k:], v)
		}
		copy(out[setSecs[i].off:], c.set)
		copy(out[c.s.valid.off:], c.col.Valid)
		switch c.col.Type {
		case String, JSON:
			putInt32s(out[c.s.b1.off:], c.col.Offsets)
			copy(out[c.s.b2.off:], c.col.Data)
		case Bool:
			copy(out[c.s.b1.off:], c.col.Bits)
		case Int64, Timestamp:
			putInt64s(out[c.s.b1.off:], c.col.Ints, nil)
		case StringList:
			putInt32s(out[c.s.b1.off:], c.col.Offsets)
			putInt32s(out[c.s.b2.off:], c.col.Elems)
			copy(out[c.s.b3.off:], c.col.Data)
		}
	}
	return out
}

// Reply is a module's reply to a columnar batch, as the host reads it. Its
// columns share the memory of the bytes it was read from.
type Reply struct {
	Rows     int
	Outcomes []Outcome
	// Columns are the written columns the module sent back, each with the
	// index of the batch's column it writes.
	Columns    []ReplyColumn
	reasonOff  []int32
	reasonData []byte
	// Extras is the JSON array of split pieces and added records, or nil.
	Extras []byte
}

// ReplyColumn is a written column of a reply.
type ReplyColumn struct {
	Index int    // the column's index in the batch
	Set   []byte // bit i: row i has a value, null or not; nil: every row has
	Column
}

// IsSet reports whether the module set row i's value.
func (c *ReplyColumn) IsSet(i int) bool { return c.Set == nil || bit(c.Set, i) }

// Reason returns row i's reason, "" when it has none; the bytes need not be
// valid UTF-8, which the host sees to.
func (r *Reply) Reason(i int) string {
	if r.reasonOff == nil {
		return ""
	}
	return string(r.reasonData[r.reasonOff[i]:r.reasonOff[i+1]])
}

// BatchError is a module's reply that fails its whole batch: the JSON object
// {"error": "reason"} that modules send, in any format, for a batch they
// cannot read.
type BatchError struct{ Reason string }

func (e *BatchError) Error() string { return e.Reason }

// ReadReply reads a module's reply to a batch of rows rows whose columns
// were batch (for their types and which of them the module writes). It
// checks everything: a reply is the module's, and the module is not trusted.
// A batch-level error reply comes back as a *BatchError.
func ReadReply(src []byte, batch []Column, rows int) (*Reply, error) {
	if trimmed := bytes.TrimSpace(src); len(trimmed) > 0 && trimmed[0] == '{' {
		var e struct {
			Error *string `json:"error"`
		}
		if err := json.Unmarshal(trimmed, &e); err != nil || e.Error == nil {
			return nil, errors.New(`a reply that is a JSON object but not {"error": "reason"}`)
		}
		return nil, &BatchError{Reason: *e.Error}
	}
	if len(src) < replyHeaderSize || string(src[:4]) != ReplyMagic {
		return nil, fmt.Errorf("not a columnar reply (it does not start with %q)", ReplyMagic)
	}
	le := binary.LittleEndian
	h := func(k int) int { return int(le.Uint32(src[4*k:])) }
	r := &Reply{Rows: h(1)}
	if r.Rows != rows {
		return nil, fmt.Errorf("%d rows in the reply to a batch of %d", r.Rows, rows)
	}
	ncols := h(2)
	if ncols > len(batch) {
		return nil, fmt.Errorf("%d columns in the reply to a batch of %d", ncols, len(batch))
	}
	if uint64(replyHeaderSize)+uint64(ncols)*replyColumnSize > uint64(len(src)) {
		return nil, fmt.Errorf("%d column descriptors do not fit in %d bytes", ncols, len(src))
	}
	outcomes, err := slice(src, section{h(3), rows})
	if err != nil {
		return nil, fmt.Errorf("outcomes: %w", err)
	}
	r.Outcomes = unsafe.Slice((*Outcome)(unsafe.SliceData(outcomes)), len(outcomes))
	for i, o := range r.Outcomes {
		if !o.Valid() {
			return nil, fmt.Errorf("row %d: outcome %d is none of the ABI's", i, o)
		}
	}
	if off := h(4); off != 0 {
		if r.reasonOff, err = offsets(src, section{off, 4 * (rows + 1)}, rows); err != nil {
			return nil, fmt.Errorf("reason offsets: %w", err)
		}
		if r.reasonData, err = slice(src, section{h(5), h(6)}); err != nil {
			return nil, fmt.Errorf("reasons: %w", err)
		}
		if int(r.reasonOff[rows]) != len(r.reasonData) {
			return nil, fmt.Errorf("reason offsets end at %d, the reasons at %d", r.reasonOff[rows], len(r.reasonData))
		}
	}
	if n := h(8); n > 0 {
		if r.Extras, err = slice(src, section{h(7), n}); err != nil {
			return nil, fmt.Errorf("extras: %w", err)
		}
	}
	seen := make([]bool, len(batch))
	r.Columns = make([]ReplyColumn, ncols)
	for i := range ncols {
		d := src[replyHeaderSize+replyColumnSize*i:]
		u := func(k int) int { return int(le.Uint32(d[4*k:])) }
		c := &r.Columns[i]
		c.Index = u(0)
		if c.Index >= len(batch) || !batch[c.Index].Written {
			return nil, fmt.Errorf("reply column %d is batch column %d, not one the module writes", i, c.Index)
		}
		if seen[c.Index] {
			return nil, fmt.Errorf("column %s is in the reply twice", batch[c.Index].Name)
		}
		seen[c.Index] = true
		c.Name, c.Type = batch[c.Index].Name, batch[c.Index].Type
		if s := (section{u(1), u(2)}); s.len > 0 {
			if c.Set, err = bitmap(src, s, rows); err != nil {
				return nil, fmt.Errorf("column %s: set: %w", c.Name, err)
			}
		}
		s := sections{valid: section{u(3), u(4)}, b1: section{u(5), u(6)}, b2: section{u(7), u(8)}, b3: section{u(9), u(10)}}
		if err := readColumn(src, &c.Column, rows, s); err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
	}
	return r, nil
}

// Extra is an entry of a reply's extras: a piece of a split row, or a record
// a row gave rise to.
type Extra struct {
	Row int
	// Stream is the stream of an added record; "" for a piece of Row's split.
	Stream string
	Record json.RawMessage
}

// ReadExtras reads a reply's extras, checking that each names a row of the
// batch and holds a JSON object.
func ReadExtras(data []byte, rows int) ([]Extra, error) {
	if len(data) == 0 {
		return nil, nil
	}
	var raw []struct {
		Row    *int            `json:"row"`
		Stream *string         `json:"stream"`
		Record json.RawMessage `json:"record"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("extras: %w", err)
	}
	out := make([]Extra, len(raw))
	for i, e := range raw {
		switch {
		case e.Row == nil || *e.Row < 0 || *e.Row >= rows:
			return nil, fmt.Errorf("extra %d: no row of the batch", i)
		case len(e.Record) == 0 || e.Record[0] != '{':
			return nil, fmt.Errorf("extra %d: record is not a JSON object", i)
		case e.Stream != nil && *e.Stream == "":
			return nil, fmt.Errorf("extra %d: empty stream", i)
		}
		out[i] = Extra{Row: *e.Row, Record: e.Record}
		if e.Stream != nil {
			out[i].Stream = *e.Stream
		}
	}
	return out, nil
}

// Changes returns what the module set in row i, as JSON members for
// [Patch]: the row's values in the reply's columns where they are set.
func (r *Reply) Changes(i int) []Member {
	var out []Member
	for k := range r.Columns {
		c := &r.Columns[k]
		if c.IsSet(i) {
			out = append(out, Member{Name: c.Name, Value: AppendCellJSON(nil, &c.Column, i)})
		}
	}
	return out
}

// PieceChanges returns the members of a split's piece that replace its
// row's values, for [Patch]: those of the columns written; the piece's other
// members are ignored.
func PieceChanges(piece json.RawMessage, written []string) ([]Member, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(piece, &members); err != nil {
		return nil, fmt.Errorf("piece: %w", err)
	}
	var out []Member
	for _, name := range written {
		if v, ok := members[name]; ok {
			out = append(out, Member{Name: name, Value: v})
		}
	}
	return out, nil
}
