package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Record is one row of a canonical stream: a JSON object keyed by column
// name. It splits the object into fields only when a field is first read or
// written, and decodes a field's value only when asked, so a transform pays
// for what it touches; a record that is never changed is written back exactly
// as it arrived.
//
// Getters are lenient: a column that is absent, null or of another JSON type
// reads as the zero value, because canonical columns are nullable and a
// transform should not need an error path for every read. [Record.Decode]
// reports errors for when it matters.
type Record struct {
	src    json.RawMessage            // the object as received
	fields map[string]json.RawMessage // nil until a field is touched
	dirty  bool                       // a field was set since src
}

// NewRecord returns an empty record, for a [Split] that builds records rather
// than deriving them with [Record.Clone].
func NewRecord() *Record {
	return &Record{src: json.RawMessage("{}"), fields: map[string]json.RawMessage{}, dirty: true}
}

// ParseRecord returns the record held by a JSON object.
func ParseRecord(data []byte) (*Record, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' || !json.Valid(data) {
		return nil, fmt.Errorf("record is not a JSON object: %.40q", data)
	}
	return &Record{src: data}, nil
}

// split parses src into fields on first use. src is a valid JSON object (see
// ParseRecord), so the error cannot happen; a map that stays empty is the
// safe reading of one that somehow did.
func (r *Record) split() {
	if r.fields != nil {
		return
	}
	r.fields = make(map[string]json.RawMessage)
	_ = json.Unmarshal(r.src, &r.fields)
}

// Has reports whether the record has the column, null or not.
func (r *Record) Has(name string) bool {
	r.split()
	_, ok := r.fields[name]
	return ok
}

// Get returns a column's JSON value as it is, and whether the record has it.
// The value is shared with the record: copy it before changing it.
func (r *Record) Get(name string) (json.RawMessage, bool) {
	r.split()
	v, ok := r.fields[name]
	return v, ok
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

func (r *Record) setRaw(name string, v json.RawMessage) {
	r.split()
	r.fields[name] = v
	r.dirty = true
}

// ID returns the record's id, the primary key of every canonical stream.
func (r *Record) ID() string { return r.String("id") }

// String returns a string column, or "" when it is absent, null or not a string.
func (r *Record) String(name string) string {
	raw, _ := r.Get(name)
	if len(raw) < 2 || raw[0] != '"' {
		return ""
	}
	// Most strings have no escapes, and reading them needs no decoder.
	if inner := raw[1 : len(raw)-1]; bytes.IndexByte(inner, '\\') < 0 {
		return string(inner)
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
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
	c := &Record{src: r.src, dirty: r.dirty}
	if r.fields != nil {
		// Values are never changed in place, only replaced, so sharing them is safe.
		c.fields = maps.Clone(r.fields)
	}
	return c
}

// MarshalJSON returns the record as a JSON object: the bytes it arrived as
// when nothing was set, else its fields with their names in sorted order.
func (r *Record) MarshalJSON() ([]byte, error) {
	return r.appendJSON(nil), nil
}

func (r *Record) appendJSON(b []byte) []byte {
	if !r.dirty {
		return append(b, r.src...)
	}
	b = append(b, '{')
	for i, name := range slices.Sorted(maps.Keys(r.fields)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, name)
		b = append(b, ':')
		b = append(b, r.fields[name]...)
	}
	return append(b, '}')
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}
