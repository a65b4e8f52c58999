// Package columnar is the byte layout of the transform ABI's columnar format
// (format bit 1, value 2): the batch ferry writes into a module's memory and
// the reply the module writes back. docs/transform-abi.md specifies it for
// any language; this package implements both sides for Go, so that the host
// (host/transform) and the guest SDK (sdk/transform) cannot disagree.
// A transform never imports it: sdk/transform puts a record-shaped API over it.
//
// Everything here is written to run inside a wasm module as well as in the
// host: it imports nothing heavier than encoding/json, reads without copying
// (a [Column] read from a batch or a reply is a view of the bytes it came
// from), and builds without allocating per value.
//
// Integers are little-endian; every section of a batch or a reply starts at
// a multiple of 8 bytes from its start, so that offsets and int64 values can
// be read in place.
package columnar

import (
	"fmt"
	"unsafe"
)

// Type is the type of a column, as a batch's column descriptor gives it.
type Type uint32

// The column types. They are those of the canonical schema (sdk/schema):
// strings, JSON text, booleans, 64-bit integers, timestamps and lists of
// strings.
const (
	String     Type = 1 // UTF-8 text: int32 offsets and bytes
	JSON       Type = 2 // JSON text (custom_fields, raw, ...): as String
	Bool       Type = 3 // a bitmap of values
	Int64      Type = 4 // int64 values
	Timestamp  Type = 5 // int64 microseconds since the Unix epoch, UTC
	StringList Type = 6 // list offsets, element offsets and bytes
)

// String returns the type's name, as the ABI's documentation uses it.
func (t Type) String() string {
	switch t {
	case String:
		return "string"
	case JSON:
		return "json"
	case Bool:
		return "bool"
	case Int64:
		return "int64"
	case Timestamp:
		return "timestamp"
	case StringList:
		return "list<string>"
	default:
		return fmt.Sprintf("Type(%d)", uint32(t))
	}
}

// Valid reports whether t is one of the ABI's types.
func (t Type) Valid() bool { return t >= String && t <= StringList }

// Outcome is what a module decided for one row of a batch: one byte per row
// of a reply.
type Outcome uint8

// The outcomes of a reply. Zero is no outcome, so that a reply whose outcome
// bytes were never written is refused rather than read as keeps.
const (
	Keep        Outcome = 1 // the row goes on unchanged
	KeepChanged Outcome = 2 // the row goes on with the values set in the reply's columns
	Drop        Outcome = 3 // the row is skipped; its reason says why
	Error       Outcome = 4 // the row failed; its reason says why
	Split       Outcome = 5 // the row became the pieces of the reply's extras
)

// Valid reports whether o is one of the ABI's outcomes.
func (o Outcome) Valid() bool { return o >= Keep && o <= Split }

// String returns the outcome's name.
func (o Outcome) String() string {
	switch o {
	case Keep:
		return "keep"
	case KeepChanged:
		return "keep-changed"
	case Drop:
		return "drop"
	case Error:
		return "error"
	case Split:
		return "split"
	default:
		return fmt.Sprintf("Outcome(%d)", uint8(o))
	}
}

// Value is one cell, for the paths that go value by value (JSON, pending
// writes); the bulk paths read a [Column]'s buffers directly.
type Value struct {
	Null bool
	Str  string   // String: the text; JSON: the JSON text
	Int  int64    // Int64; Timestamp: microseconds since the Unix epoch, UTC
	Bool bool     // Bool
	List []string // StringList
}

// Equal reports whether two values of type t are the same.
func (v Value) Equal(w Value, t Type) bool {
	if v.Null || w.Null {
		return v.Null == w.Null
	}
	switch t {
	case String, JSON:
		return v.Str == w.Str
	case Bool:
		return v.Bool == w.Bool
	case Int64, Timestamp:
		return v.Int == w.Int
	case StringList:
		if len(v.List) != len(w.List) {
			return false
		}
		for i := range v.List {
			if v.List[i] != w.List[i] {
				return false
			}
		}
		return true
	}
	return false
}

// Column is one column of a batch or a reply: Len rows, in the ABI's layout.
// Which buffers it uses depends on its type:
//
//	String, JSON   Offsets (Len+1, from 0) into Data
//	Bool           Bits: a bitmap of the values
//	Int64, Timestamp  Ints
//	StringList     Offsets (Len+1, from 0) into the elements, Elems (one
//	               more than there are elements, from 0) into Data
//
// Valid is the validity bitmap (bit i set: row i is not null), or nil when
// no row is null. A null row's value is empty: equal offsets, 0, false.
// Bitmaps are Arrow's: row i is bit i%8 of byte i/8.
//
// A Column read from a batch or a reply shares its memory; its slices are
// capped, so that appending to one copies rather than writes over what
// follows it.
type Column struct {
	Name    string
	Type    Type
	Written bool // in a batch: the module declared it as a column it writes
	Len     int
	Valid   []byte
	Offsets []int32
	Elems   []int32
	Data    []byte
	Ints    []int64
	Bits    []byte
}

// bit reports whether bit i of bitmap b is set.
func bit(b []byte, i int) bool { return b[i>>3]>>(uint(i)&7)&1 != 0 }

// setBit sets bit i of bitmap b.
func setBit(b []byte, i int) { b[i>>3] |= 1 << (uint(i) & 7) }

// bitmapLen is the bytes of a bitmap of n bits.
func bitmapLen(n int) int { return (n + 7) / 8 }

// IsNull reports whether row i is null.
func (c *Column) IsNull(i int) bool { return c.Valid != nil && !bit(c.Valid, i) }

// Bytes returns row i of a String or JSON column, sharing the column's memory.
func (c *Column) Bytes(i int) []byte { return c.Data[c.Offsets[i]:c.Offsets[i+1]:c.Offsets[i+1]] }

// Str returns row i of a String or JSON column without copying it: the string
// shares the column's memory, which must not change while it is in use (the
// ABI's buffers never do once written).
func (c *Column) Str(i int) string {
	start, end := c.Offsets[i], c.Offsets[i+1]
	if start == end {
		return ""
	}
	return unsafe.String(&c.Data[start], int(end-start))
}

// Int returns row i of an Int64 or Timestamp column.
func (c *Column) Int(i int) int64 { return c.Ints[i] }

// BoolAt returns row i of a Bool column.
func (c *Column) BoolAt(i int) bool { return bit(c.Bits, i) }

// ListLen returns the number of elements of row i of a StringList column.
func (c *Column) ListLen(i int) int { return int(c.Offsets[i+1] - c.Offsets[i]) }

// ListAt returns element k of row i of a StringList column, sharing the
// column's memory as [Column.Str] does.
func (c *Column) ListAt(i, k int) string {
	e := int(c.Offsets[i]) + k
	start, end := c.Elems[e], c.Elems[e+1]
	if start == end {
		return ""
	}
	return unsafe.String(&c.Data[start], int(end-start))
}

// AppendList appends the elements of row i of a StringList column to dst.
func (c *Column) AppendList(dst []string, i int) []string {
	for k := range c.ListLen(i) {
		dst = append(dst, c.ListAt(i, k))
	}
	return dst
}

// Value returns row i as a Value; for a StringList it allocates the list.
func (c *Column) Value(i int) Value {
	if c.IsNull(i) {
		return Value{Null: true}
	}
	switch c.Type {
	case String, JSON:
		return Value{Str: c.Str(i)}
	case Bool:
		return Value{Bool: c.BoolAt(i)}
	case Int64, Timestamp:
		return Value{Int: c.Ints[i]}
	case StringList:
		return Value{List: c.AppendList(make([]string, 0, c.ListLen(i)), i)}
	}
	return Value{Null: true}
}

// littleEndian reports whether this machine stores integers as the ABI does,
// so that its buffers can be read and written in place.
func littleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}
