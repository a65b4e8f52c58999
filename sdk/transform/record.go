package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Record is one row of a canonical stream: a JSON object keyed by column
// name. It reads only as far into the object as the columns a transform asks
// for, decodes a value only when asked, and writes a changed record back as
// the bytes it arrived as with the changed values spliced in and new columns
// added at the end. A transform pays for the columns it touches, not for the
// record: inside a module every byte looked at costs, and records carry the
// whole source record in raw.
//
// A column that is null may also be absent (sdk/schema's JSON form leaves
// null and empty columns out). Getters are lenient: a column that is absent,
// null or of another JSON type reads as the zero value, because canonical
// columns are nullable and a transform should not need an error path for
// every read. [Record.Decode] reports errors for when it matters.
type Record struct {
	src     []byte  // the object as received
	fields  []field // the members scanned so far, in order, then the columns added
	scanned int     // where in src the scan for members resumes
	done    bool    // every member of src is in fields
	dirty   bool    // a value was set
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

// Has reports whether the record has the column, null or not.
func (r *Record) Has(name string) bool {
	return r.find(name) >= 0
}

// Get returns a column's JSON value as it is, and whether the record has it.
// The value is shared with the record: copy it before changing it.
func (r *Record) Get(name string) (json.RawMessage, bool) {
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
func (r *Record) Set(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("column %s: %w", name, err)
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

// String returns a string column, or "" when it is absent, null or not a string.
func (r *Record) String(name string) string {
	raw, _ := r.Get(name)
	s, _ := unquote(raw)
	return s
}

// SetString sets a string column. The empty string is kept as such; ferry
// stores it as null in optional columns, as sdk/schema does.
func (r *Record) SetString(name, v string) {
	r.setRaw(name, appendJSONString(nil, v))
}

// Strings returns a list-of-strings column (tags, cc_ids, domains), or nil
// when it is absent, null or not such a list.
func (r *Record) Strings(name string) []string {
	var v []string
	if r.Decode(name, &v) != nil {
		return nil
	}
	return v
}

// SetStrings sets a list-of-strings column; nil sets it to null.
func (r *Record) SetStrings(name string, v []string) {
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
	raw, _ := r.Get(name)
	return string(raw) == "true"
}

// SetBool sets a boolean column.
func (r *Record) SetBool(name string, v bool) {
	if v {
		r.setRaw(name, json.RawMessage("true"))
	} else {
		r.setRaw(name, json.RawMessage("false"))
	}
}

// Int64 returns an integer column (an attachment's size), or 0 when it is
// absent, null or not an integer.
func (r *Record) Int64(name string) int64 {
	var v int64
	if r.Decode(name, &v) != nil {
		return 0
	}
	return v
}

// SetInt64 sets an integer column.
func (r *Record) SetInt64(name string, v int64) {
	r.setRaw(name, strconv.AppendInt(nil, v, 10))
}

// Time returns a timestamp column, or the zero time when it is absent, null
// or not an RFC 3339 string.
func (r *Record) Time(name string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, r.String(name))
	if err != nil {
		return time.Time{}
	}
	return t
}

// SetTime sets a timestamp column, in UTC; the zero time sets it to null.
// ferry keeps timestamps to the microsecond.
func (r *Record) SetTime(name string, t time.Time) {
	if t.IsZero() {
		r.setRaw(name, json.RawMessage("null"))
		return
	}
	r.SetString(name, t.UTC().Format(time.RFC3339Nano))
}

// Raw returns the source system's own record (the raw column), or nil when
// the record has none. Decode it, or use [Record.Decode] with "raw", to reach
// fields the canonical model does not name.
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
	return &c
}

// MarshalJSON returns the record as a JSON object: the bytes it arrived as,
// with the values set spliced in and the columns added at the end.
func (r *Record) MarshalJSON() ([]byte, error) {
	return r.appendJSON(nil), nil
}

func (r *Record) appendJSON(b []byte) []byte {
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
