package transform

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unsafe"

	"github.com/ferryhq/ferry/sdk/transform/columnar"
)

// colView is a columnar batch as its records read it.
type colView struct {
	stream  string
	rows    int
	cols    []columnar.Column
	write   []int // by column: its index among the written columns, or -1
	written []int // by write index: the column
	types   []columnar.Type
	// bit is, by column, the bit of a record's set mask for a written
	// column, or 0 for a column only read.
	bit []uint64
	// names caches lookups by the address of the name's bytes, in a slot
	// that address picks: handlers name columns with constants, so that a
	// lookup is a comparison of pointers, without a call or a loop (each
	// costly in wasm).
	names [nameSlots]nameKey
	// scratch holds the bytes of the values the current row set with
	// SetBytes, copied out of the caller's buffer; it is emptied at each row,
	// as a row's values are noted when the row ends.
	scratch []byte
}

// keep copies b into the row's scratch and returns it as a string, which
// stays valid until the next row.
func (v *colView) keep(b []byte) string {
	start := len(v.scratch)
	v.scratch = append(v.scratch, b...)
	return unsafe.String(unsafe.SliceData(v.scratch[start:]), len(b))
}

// nameKey is a cached lookup: the column named by the string at p, of n bytes.
type nameKey struct {
	p   *byte
	n   int
	col int
}

// nameSlots is the size of the lookup cache, a power of two.
const nameSlots = 16

// reset points the view at a batch whose stream the transform declared as
// dc, and checks that the batch holds what was declared.
func (v *colView) reset(b *columnar.Batch, dc *declared) error {
	v.stream, v.rows, v.cols = b.Stream, b.Rows, b.Columns
	v.write, v.written, v.types, v.bit = v.write[:0], v.written[:0], v.types[:0], v.bit[:0]
	v.names = [nameSlots]nameKey{}
	for i := range b.Columns {
		c := &b.Columns[i]
		w := -1
		if c.Written && len(v.written) == maxWritten {
			return fmt.Errorf("over %d columns written", maxWritten)
		}
		if c.Written {
			if !slices.Contains(dc.write, c.Name) {
				return fmt.Errorf("column %s is sent as written, and the transform does not write it", c.Name)
			}
			w = len(v.written)
			v.written, v.types = append(v.written, i), append(v.types, c.Type)
		}
		v.write = append(v.write, w)
		if w >= 0 {
			v.bit = append(v.bit, 1<<uint(w))
		} else {
			v.bit = append(v.bit, 0)
		}
	}
	for _, name := range dc.read {
		i := v.find(name)
		if i < 0 {
			return fmt.Errorf("the batch has no column %s, which the transform declared", name)
		}
		if slices.Contains(dc.write, name) && v.write[i] < 0 {
			return fmt.Errorf("column %s is not sent as written, and the transform writes it", name)
		}
	}
	return nil
}

// maxWritten bounds the columns a transform writes: a record's set cells
// are a bit each.
const maxWritten = 64

// lookup returns the index of the named column, or -1.
func (v *colView) lookup(name string) int {
	if i := v.cached(name); i != notCached {
		return i
	}
	return v.lookupSlow(name)
}

// cached is lookup from the cache alone, notCached on a miss: without a
// call, so that it is inlined where a lookup is hot (a call costs in wasm).
func (v *colView) cached(name string) int {
	p := unsafe.StringData(name)
	if k := &v.names[uintptr(unsafe.Pointer(p))>>4%nameSlots]; k.p == p && k.n == len(name) {
		return k.col
	}
	return notCached
}

// notCached is cached's answer for a name not in the cache.
const notCached = -2

// find is lookup.
func (v *colView) find(name string) int { return v.lookup(name) }

// lookupSlow compares names, and caches what it found (or did not). It is
// kept out of line so that lookup is inlined into every getter and setter.
//
//go:noinline
func (v *colView) lookupSlow(name string) int {
	col := -1
	for i := range v.cols {
		if v.cols[i].Name == name {
			col = i
			break
		}
	}
	p := unsafe.StringData(name)
	v.names[uintptr(unsafe.Pointer(p))>>4&(nameSlots-1)] = nameKey{p: p, n: len(name), col: col}
	return col
}

// cell is a value a transform set in a written column, for the reply: set
// when the record's set mask has the column's bit.
type cell struct {
	v columnar.Value
}

// isSet reports whether the transform set written column w.
func (r *Record) isSet(w int) bool { return r.set&(1<<uint(w)) != 0 }

// put sets written column w.
func (r *Record) put(w int, v columnar.Value) {
	r.cells[w].v = v
	r.set |= 1 << uint(w)
}

// fail records a misuse of the record, which fails it; the first one is
// the reason.
func (r *Record) fail(format string, args ...any) {
	if r.misuse == "" {
		r.misuse = fmt.Sprintf(format, args...)
	}
}

// at returns the named column for reading and, when the transform set it,
// the value it set; a column not in the batch is a misuse.
func (r *Record) at(name string) (*columnar.Column, *columnar.Value) {
	i := r.cv.find(name)
	if i < 0 {
		r.fail("the transform reads column %s of %s, which it did not declare (transform.Context.Declare)", name, r.cv.stream)
		return nil, nil
	}
	if w := r.cv.write[i]; w >= 0 && r.isSet(w) {
		return &r.cv.cols[i], &r.cells[w].v
	}
	return &r.cv.cols[i], nil
}

// target returns a written column and its write index, or nil after
// recording a misuse: a column not declared as written, or set with a
// setter for another type (op names it).
func (r *Record) target(name, op string, types ...columnar.Type) (*columnar.Column, int) {
	i := r.cv.find(name)
	if i < 0 || r.cv.write[i] < 0 {
		r.fail("the transform writes column %s of %s, which it did not declare as written (transform.Context.Declare)", name, r.cv.stream)
		return nil, -1
	}
	c := &r.cv.cols[i]
	if !slices.Contains(types, c.Type) {
		r.fail("%s on column %s, which is a %s", op, name, c.Type)
		return nil, -1
	}
	return c, r.cv.write[i]
}

// colString is String's columnar form, but for the path String takes itself.
func (r *Record) colString(name string) string {
	c, set := r.at(name)
	switch {
	case c == nil:
		return ""
	case set != nil:
		return valueString(c.Type, *set)
	case c.IsNull(r.row):
		return ""
	}
	switch c.Type {
	case columnar.String:
		return c.Str(r.row)
	case columnar.JSON:
		s, _ := unquote(c.Bytes(r.row))
		return s
	case columnar.Timestamp:
		return formatTime(c.Ints[r.row])
	}
	return ""
}

// valueString is String's reading of a value set.
func valueString(t columnar.Type, v columnar.Value) string {
	switch {
	case v.Null:
		return ""
	case t == columnar.String:
		return v.Str
	case t == columnar.JSON:
		s, _ := unquote([]byte(v.Str))
		return s
	case t == columnar.Timestamp:
		return formatTime(v.Int)
	}
	return ""
}

func formatTime(micros int64) string {
	return time.UnixMicro(micros).UTC().Format(time.RFC3339Nano)
}

func (r *Record) colStrings(dst []string, name string) []string {
	c, set := r.at(name)
	switch {
	case c == nil:
		return dst
	case set != nil:
		if set.Null {
			return dst
		}
		if c.Type == columnar.JSON {
			return appendJSONStrings(dst, []byte(set.Str))
		}
		if dst == nil {
			dst = make([]string, 0, len(set.List))
		}
		return append(dst, set.List...)
	case c.IsNull(r.row):
		return dst
	}
	switch c.Type {
	case columnar.StringList:
		if dst == nil {
			dst = make([]string, 0, c.ListLen(r.row))
		}
		return c.AppendList(dst, r.row)
	case columnar.JSON:
		return appendJSONStrings(dst, c.Bytes(r.row))
	}
	return dst
}

// appendJSONStrings appends the elements of a JSON array of strings, or
// nothing when raw is not one.
func appendJSONStrings(dst []string, raw []byte) []string {
	var v []string
	if json.Unmarshal(raw, &v) != nil {
		return dst
	}
	return append(dst, v...)
}

func (r *Record) colBool(name string) bool {
	c, set := r.at(name)
	switch {
	case c == nil:
		return false
	case set != nil:
		return !set.Null && (c.Type == columnar.Bool && set.Bool || c.Type == columnar.JSON && set.Str == "true")
	case c.IsNull(r.row):
		return false
	case c.Type == columnar.Bool:
		return c.BoolAt(r.row)
	case c.Type == columnar.JSON:
		return string(c.Bytes(r.row)) == "true"
	}
	return false
}

func (r *Record) colInt64(name string) int64 {
	c, set := r.at(name)
	switch {
	case c == nil:
		return 0
	case set != nil:
		if set.Null {
			return 0
		}
		if c.Type == columnar.JSON {
			n, _ := strconv.ParseInt(set.Str, 10, 64)
			return n
		}
		if c.Type == columnar.Int64 {
			return set.Int
		}
		return 0
	case c.IsNull(r.row):
		return 0
	case c.Type == columnar.Int64:
		return c.Ints[r.row]
	case c.Type == columnar.JSON:
		n, _ := strconv.ParseInt(string(c.Bytes(r.row)), 10, 64)
		return n
	}
	return 0
}

func (r *Record) colTime(name string) time.Time {
	c, set := r.at(name)
	if c == nil {
		return time.Time{}
	}
	if c.Type == columnar.Timestamp {
		switch {
		case set != nil && set.Null, set == nil && c.IsNull(r.row):
			return time.Time{}
		case set != nil:
			return time.UnixMicro(set.Int).UTC()
		}
		return time.UnixMicro(c.Ints[r.row]).UTC()
	}
	t, err := time.Parse(time.RFC3339Nano, r.colString(name))
	if err != nil {
		return time.Time{}
	}
	return t
}

// colGet returns a column's canonical JSON value; a JSON column's is its
// text as it is, shared with the batch.
func (r *Record) colGet(name string) (json.RawMessage, bool) {
	c, set := r.at(name)
	switch {
	case c == nil:
		return nil, false
	case set != nil:
		if set.Null {
			return nil, false
		}
		if c.Type == columnar.JSON {
			return json.RawMessage(set.Str), true
		}
		return columnar.AppendValueJSON(nil, c.Type, *set), true
	case c.IsNull(r.row):
		return nil, false
	case c.Type == columnar.JSON:
		return c.Bytes(r.row), true
	}
	return columnar.AppendCellJSON(nil, c, r.row), true
}

// colSetString is SetString's columnar form, but for the path SetString
// takes itself.
func (r *Record) colSetString(name, v string) {
	c, w := r.target(name, "SetString", columnar.String, columnar.JSON, columnar.Timestamp)
	if c == nil {
		return
	}
	switch c.Type {
	case columnar.String:
		r.put(w, columnar.Value{Str: v})
	case columnar.JSON:
		r.put(w, columnar.Value{Str: string(appendJSONString(nil, v))})
	case columnar.Timestamp:
		us, err := columnar.ParseTimestamp(v)
		if err != nil {
			r.fail("column %s: %q is not an RFC 3339 time", name, v)
			return
		}
		r.put(w, columnar.Value{Int: us})
	}
}

func (r *Record) colSetStrings(name string, v []string) {
	c, w := r.target(name, "SetStrings", columnar.StringList, columnar.JSON)
	switch {
	case c == nil:
	case v == nil:
		r.put(w, columnar.Value{Null: true})
	case c.Type == columnar.JSON:
		r.put(w, columnar.Value{Str: string(appendStrings(nil, v))})
	default:
		// The caller may reuse its slice; the reply is written later.
		r.put(w, columnar.Value{List: slices.Clone(v)})
	}
}

func (r *Record) colSetBool(name string, v bool) {
	c, w := r.target(name, "SetBool", columnar.Bool, columnar.JSON)
	switch {
	case c == nil:
	case c.Type == columnar.JSON:
		r.put(w, columnar.Value{Str: strconv.FormatBool(v)})
	default:
		r.put(w, columnar.Value{Bool: v})
	}
}

func (r *Record) colSetInt64(name string, v int64) {
	c, w := r.target(name, "SetInt64", columnar.Int64, columnar.JSON)
	switch {
	case c == nil:
	case c.Type == columnar.JSON:
		r.put(w, columnar.Value{Str: strconv.FormatInt(v, 10)})
	default:
		r.put(w, columnar.Value{Int: v})
	}
}

func (r *Record) colSetTime(name string, t time.Time) {
	c, w := r.target(name, "SetTime", columnar.Timestamp, columnar.String, columnar.JSON)
	switch {
	case c == nil:
	case t.IsZero():
		r.put(w, columnar.Value{Null: true})
	case c.Type == columnar.Timestamp:
		r.put(w, columnar.Value{Int: t.UnixMicro()})
	case c.Type == columnar.String:
		r.put(w, columnar.Value{Str: t.UTC().Format(time.RFC3339Nano)})
	default:
		r.put(w, columnar.Value{Str: string(columnar.AppendTimestampJSON(nil, t.UnixMicro()))})
	}
}

// colSetJSON is Set's columnar form: data must suit the column's type.
func (r *Record) colSetJSON(name string, data []byte) error {
	i := r.cv.find(name)
	if i < 0 || r.cv.write[i] < 0 {
		r.fail("the transform writes column %s of %s, which it did not declare as written (transform.Context.Declare)", name, r.cv.stream)
		return fmt.Errorf("column %s is not declared as written", name)
	}
	c := &r.cv.cols[i]
	v, err := columnar.ParseValue(c.Type, data)
	if err != nil {
		return fmt.Errorf("column %s (%s): %w", name, c.Type, err)
	}
	r.put(r.cv.write[i], v)
	return nil
}

// unchanged reports whether v, set in column c, is the value row already
// has, so that a transform that sets what is there does not count as
// changing the record. An empty string is a null string: sdk/schema stores
// it so.
func unchanged(c *columnar.Column, row int, v columnar.Value) bool {
	emptyString := func(v columnar.Value) bool { return v.Null || c.Type == columnar.String && v.Str == "" }
	if c.IsNull(row) {
		return emptyString(v)
	}
	if v.Null {
		return c.Type == columnar.String && c.Offsets[row] == c.Offsets[row+1]
	}
	switch c.Type {
	case columnar.String, columnar.JSON:
		return c.Str(row) == v.Str
	case columnar.Bool:
		return c.BoolAt(row) == v.Bool
	case columnar.Int64, columnar.Timestamp:
		return c.Ints[row] == v.Int
	case columnar.StringList:
		if c.ListLen(row) != len(v.List) {
			return false
		}
		for k, s := range v.List {
			if c.ListAt(row, k) != s {
				return false
			}
		}
		return true
	}
	return false
}

// colAppendJSON appends the record as a JSON object: the id and every
// column declared, or only the id and the columns written.
func (r *Record) colAppendJSON(b []byte, writtenOnly bool) []byte {
	b = append(b, '{')
	for i := range r.cv.cols {
		c := &r.cv.cols[i]
		w := r.cv.write[i]
		if writtenOnly && i > 0 && w < 0 {
			continue
		}
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = appendJSONString(b, c.Name)
		b = append(b, ':')
		if w >= 0 && r.isSet(w) {
			b = columnar.AppendValueJSON(b, c.Type, r.cells[w].v)
		} else {
			b = columnar.AppendCellJSON(b, c, r.row)
		}
	}
	return append(b, '}')
}
