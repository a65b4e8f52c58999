package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferryhq/ferry/sdk/transform/columnar"
)

// Record is one row of a canonical stream, keyed by column name. It comes
// in one of two forms, with the same methods:
//
//   - a row of a columnar batch, when the transform declared the columns it
//     reads and writes ([Context.Declare]): getters read the batch's buffers
//     in place, without decoding or allocating (but for Strings, Get and
//     Decode), and setters record the value for the reply. Reading or
//     writing a column the transform did not declare fails the record, with
//     a reason that names the column.
//   - a JSON object, when the transform reads whole records, and for records
//     built with [NewRecord]. It reads only as far into the object as the
//     columns asked for, decodes a value only when asked, and writes a
//     changed record back as the bytes it arrived as with the changed values
//     spliced in and new columns added at the end.
//
// Either way a transform pays for the columns it touches, not for the
// record: inside a module every byte looked at costs, and records carry the
// whole source record in raw.
//
// A column that is null may also be absent (sdk/schema's JSON form leaves
// null and empty columns out). Getters are lenient: a column that is absent,
// null or of another type reads as the zero value, because canonical
// columns are nullable and a transform should not need an error path for
// every read. [Record.Decode] reports errors for when it matters.
//
// A Record is valid during the call of the handler that received it: ferry
// reuses it for the next row. Keep what you need of it, or a [Record.Clone].
type Record struct {
	// The JSON form.
	src     []byte  // the object as received
	fields  []field // the members scanned so far, in order, then the columns added
	scanned int     // where in src the scan for members resumes
	done    bool    // every member of src is in fields
	dirty   bool    // a value was set

	// The columnar form; cv is nil in the JSON form.
	cv    *colView
	row   int
	cells []cell // values set in cv's written columns, by write index
	set   uint64 // which cells are set: bit w for written column w
	// misuse is the first use of a column the transform did not declare
	// (or of the wrong type), which fails the record.
	misuse string
}

// field is a member of the record: one of src's, found by the scan, or one
// added by a setter.
type field struct {
	name       string // set only when it cannot be read from src: escaped or added
	nameStart  int    // the name's span in src, inside the quotes
	nameEnd    int
	valueStart int // the value's span in src
	valueEnd   int
	value      []byte // the value set, nil when it is src's
	added      bool   // not one of src's members
}

// NewRecord returns an empty record, for a [Split] that builds records rather
// than deriving them with [Record.Clone].
func NewRecord() *Record {
	return &Record{src: []byte("{}"), scanned: 2, done: true}
}

// ParseRecord returns the record held by a JSON object.
func ParseRecord(data []byte) (*Record, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' || !json.Valid(data) {
		return nil, fmt.Errorf("record is not a JSON object: %.40q", data)
	}
	return newRecord(data), nil
}

// newRecord returns the record of a JSON object that starts with '{'.
func newRecord(src []byte) *Record {
	return &Record{src: src, scanned: 1}
}

// find returns the index of the named column in r.fields, or -1, scanning
// src only as far as the column.
func (r *Record) find(name string) int {
	for i := range r.fields {
		if r.is(&r.fields[i], name) {
			return i
		}
	}
	for !r.done {
		m, ok := nextMember(r.src, r.scanned)
		if !ok {
			r.done = true
			break
		}
		r.scanned = m.next
		f := field{nameStart: m.name.start, nameEnd: m.name.end, valueStart: m.value.start, valueEnd: m.value.end}
		if bytes.IndexByte(r.src[f.nameStart:f.nameEnd], '\\') >= 0 {
			f.name, _ = unquote(r.src[f.nameStart-1 : f.nameEnd+1])
		}
		if r.fields == nil {
			// Most transforms touch a few columns.
			r.fields = make([]field, 0, 4)
		}
		r.fields = append(r.fields, f)
		if r.is(&f, name) {
			return len(r.fields) - 1
		}
	}
	return -1
}

// is reports whether f is the named column, without allocating when the
// name is read from src.
func (r *Record) is(f *field, name string) bool {
	if f.name != "" || f.added {
		return f.name == name
	}
	return string(r.src[f.nameStart:f.nameEnd]) == name
}

func (r *Record) valueOf(f *field) []byte {
	if f.value != nil {
		return f.value
	}
	return r.src[f.valueStart:f.valueEnd]
}

// Has reports whether the record has the column: in the JSON form, null or
// not; in the columnar form, not null.
func (r *Record) Has(name string) bool {
	if r.cv != nil {
		_, ok := r.colGet(name)
		return ok
	}
	return r.find(name) >= 0
}

// Get returns a column's JSON value as it is, and whether the record has it
// (in the columnar form: whether it is not null). The value is shared with
// the record: copy it before changing it.
func (r *Record) Get(name string) (json.RawMessage, bool) {
	if r.cv != nil {
		return r.colGet(name)
	}
	i := r.find(name)
	if i < 0 {
		return nil, false
	}
	return r.valueOf(&r.fields[i]), true
}

// Decode decodes a column's value into v, as json.Unmarshal does. An absent
// or null column leaves v unchanged.
func (r *Record) Decode(name string, v any) error {
	raw, ok := r.Get(name)
	if !ok || isNull(raw) {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("column %s: %w", name, err)
	}
	return nil
}

// Set sets a column to v encoded as JSON, as json.Marshal does: nil is null,
// and a json.RawMessage is taken as it is once checked.
//
// In the columnar form the value must suit the column's type (a string for
// a string column, an array of strings for tags, ...): Set returns an error
// otherwise, and the record is unchanged.
func (r *Record) Set(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("column %s: %w", name, err)
	}
	if r.cv != nil {
		return r.colSetJSON(name, data)
	}
	r.setRaw(name, data)
	return nil
}

func (r *Record) setRaw(name string, v []byte) {
	r.dirty = true
	if i := r.find(name); i >= 0 {
		r.fields[i].value = v
		return
	}
	r.fields = append(r.fields, field{name: name, value: v, added: true})
}

// ID returns the record's id, the primary key of every canonical stream.
func (r *Record) ID() string { return r.String("id") }

// String returns a string column, or "" when it is absent, null or not a
// string. A timestamp reads as its RFC 3339 text, as in the JSON form. In the
// columnar form the string shares the batch's memory and costs nothing.
func (r *Record) String(name string) string {
	if v := r.cv; v != nil {
		// The columnar path, in place: a string column not set.
		i := v.cached(name)
		if i == notCached {
			i = v.lookupSlow(name)
		}
		if i >= 0 {
			c := &v.cols[i]
			if c.Type == columnar.String && r.set&v.bit[i] == 0 {
				if c.Valid == nil || c.Valid[r.row>>3]>>(r.row&7)&1 != 0 {
					return c.Str(r.row)
				}
				return ""
			}
		}
		return r.colString(name)
	}
	raw, _ := r.Get(name)
	s, _ := unquote(raw)
	return s
}

// SetString sets a string column. The empty string is kept as such; ferry
// stores it as null in optional columns, as sdk/schema does.
func (r *Record) SetString(name, v string) {
	if cv := r.cv; cv != nil {
		// The columnar path, in place: a string column written.
		i := cv.cached(name)
		if i == notCached {
			i = cv.lookupSlow(name)
		}
		if i >= 0 && cv.bit[i] != 0 && cv.cols[i].Type == columnar.String {
			c := &r.cells[cv.write[i]].v
			c.Str, c.Null = v, false
			r.set |= cv.bit[i]
			return
		}
		r.colSetString(name, v)
		return
	}
	r.setRaw(name, appendJSONString(nil, v))
}

// SetBytes sets a string column to the text in v, which it copies: a
// transform can build values in a buffer it reuses from record to record,
// with append and strconv.Append*, and so allocate nothing per record,
// where building a string (tag + " " + subject) allocates each time. In a
// module an allocation costs more than everything else a simple transform
// does with a record.
func (r *Record) SetBytes(name string, v []byte) {
	if cv := r.cv; cv != nil {
		i := cv.cached(name)
		if i == notCached {
			i = cv.lookupSlow(name)
		}
		if i >= 0 && cv.bit[i] != 0 && cv.cols[i].Type == columnar.String {
			// SetString's columnar path, with the bytes kept: repeated
			// rather than shared, as a call costs in wasm.
			c := &r.cells[cv.write[i]].v
			c.Str, c.Null = cv.keep(v), false
			r.set |= cv.bit[i]
			return
		}
		r.SetString(name, string(v))
		return
	}
	r.setRaw(name, appendJSONString(nil, string(v)))
}

// Strings returns a list-of-strings column (tags, cc_ids, domains), or nil
// when it is absent, null or not such a list. It allocates the list; see
// [Record.AppendStrings] for a loop that should not.
func (r *Record) Strings(name string) []string {
	if r.cv != nil {
		return r.colStrings(nil, name)
	}
	var v []string
	if r.Decode(name, &v) != nil {
		return nil
	}
	return v
}

// AppendStrings appends the elements of a list-of-strings column to dst
// and returns it: with a dst reused from record to record, reading a list
// costs no allocation in the columnar form.
func (r *Record) AppendStrings(dst []string, name string) []string {
	if r.cv != nil {
		return r.colStrings(dst, name)
	}
	return append(dst, r.Strings(name)...)
}

// SetStrings sets a list-of-strings column; nil sets it to null.
func (r *Record) SetStrings(name string, v []string) {
	if r.cv != nil {
		r.colSetStrings(name, v)
		return
	}
	if v == nil {
		r.setRaw(name, json.RawMessage("null"))
		return
	}
	b := []byte{'['}
	for i, s := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	r.setRaw(name, append(b, ']'))
}

// Bool returns a boolean column, or false when it is absent, null or not a boolean.
func (r *Record) Bool(name string) bool {
	if r.cv != nil {
		return r.colBool(name)
	}
	raw, _ := r.Get(name)
	return string(raw) == "true"
}

// SetBool sets a boolean column.
func (r *Record) SetBool(name string, v bool) {
	if r.cv != nil {
		r.colSetBool(name, v)
		return
	}
	if v {
		r.setRaw(name, json.RawMessage("true"))
	} else {
		r.setRaw(name, json.RawMessage("false"))
	}
}

// Int64 returns an integer column (an attachment's size), or 0 when it is
// absent, null or not an integer.
func (r *Record) Int64(name string) int64 {
	if r.cv != nil {
		return r.colInt64(name)
	}
	var v int64
	if r.Decode(name, &v) != nil {
		return 0
	}
	return v
}

// SetInt64 sets an integer column.
func (r *Record) SetInt64(name string, v int64) {
	if r.cv != nil {
		r.colSetInt64(name, v)
		return
	}
	r.setRaw(name, strconv.AppendInt(nil, v, 10))
}

// Time returns a timestamp column, or the zero time when it is absent, null
// or not an RFC 3339 string.
func (r *Record) Time(name string) time.Time {
	if r.cv != nil {
		return r.colTime(name)
	}
	t, err := time.Parse(time.RFC3339Nano, r.String(name))
	if err != nil {
		return time.Time{}
	}
	return t
}

// SetTime sets a timestamp column, in UTC; the zero time sets it to null.
// ferry keeps timestamps to the microsecond.
func (r *Record) SetTime(name string, t time.Time) {
	if r.cv != nil {
		r.colSetTime(name, t)
		return
	}
	if t.IsZero() {
		r.setRaw(name, json.RawMessage("null"))
		return
	}
	r.SetString(name, t.UTC().Format(time.RFC3339Nano))
}

// Raw returns the source system's own record (the raw column), or nil when
// the record has none. Decode it, or use [Record.Decode] with "raw", to reach
// fields the canonical model does not name. In the columnar form, declare
// raw as a column read: it is the largest column by far, and is sent only to
// the transforms that ask for it.
func (r *Record) Raw() json.RawMessage {
	raw, ok := r.Get("raw")
	if !ok || isNull(raw) {
		return nil
	}
	return raw
}

// Clone returns a copy of the record that can be changed independently, for
// a [Split].
func (r *Record) Clone() *Record {
	// Values are never changed in place, only replaced, so sharing them is safe.
	c := *r
	c.fields = slices.Clone(r.fields)
	c.cells = slices.Clone(r.cells)
	for i := range c.cells {
		// A value set from bytes lives in the row's scratch, which the
		// next row reuses.
		c.cells[i].v.Str = strings.Clone(c.cells[i].v.Str)
	}
	return &c
}

// MarshalJSON returns the record as a JSON object: in the JSON form, the
// bytes it arrived as, with the values set spliced in and the columns added
// at the end; in the columnar form, the columns declared, values set
// included.
func (r *Record) MarshalJSON() ([]byte, error) {
	return r.appendJSON(nil), nil
}

func (r *Record) appendJSON(b []byte) []byte {
	if r.cv != nil {
		return r.colAppendJSON(b, false)
	}
	if !r.dirty {
		return append(b, r.src...)
	}
	// src's members are in fields in src's order, so one walk splices the
	// changed values in.
	pos := 0
	for i := range r.fields {
		f := &r.fields[i]
		if f.added || f.value == nil {
			continue
		}
		b = append(b, r.src[pos:f.valueStart]...)
		b = append(b, f.value...)
		pos = f.valueEnd
	}
	end := bytes.LastIndexByte(r.src, '}')
	if end < pos {
		// A malformed record (see scan.go): garbage out, which the host
		// refuses, but no panic.
		end = len(r.src)
	}
	b = append(b, r.src[pos:end]...)
	empty := len(bytes.TrimSpace(r.src[1:end])) == 0
	for i := range r.fields {
		f := &r.fields[i]
		if !f.added {
			continue
		}
		if !empty {
			b = append(b, ',')
		}
		empty = false
		b = appendJSONString(b, f.name)
		b = append(b, ':')
		b = append(b, f.value...)
	}
	return append(b, r.src[end:]...)
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}
