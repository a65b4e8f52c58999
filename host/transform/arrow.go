package transform

import (
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ferryhq/ferry/sdk/transform/columnar"
)

// fromArrow reads an input column as a columnar.Column of type t, sharing
// the array's memory wherever its layout is the format's (strings, int64s,
// microsecond timestamps, byte-aligned bitmaps), and copying otherwise.
// The column is then only read: the array's memory is the caller's.
func fromArrow(arr arrow.Array, t columnar.Type, name string) (columnar.Column, error) {
	n := arr.Len()
	c := columnar.Column{Name: name, Type: t, Len: n}
	off := arr.Data().Offset()
	if arr.NullN() > 0 {
		c.Valid = bitsAt(arr.NullBitmapBytes(), off, n)
	}
	mismatch := fmt.Errorf("column %s is %s, where the stream's schema has %s", name, arr.DataType(), t)
	switch t {
	case columnar.String, columnar.JSON:
		switch a := arr.(type) {
		case *array.String:
			if n == 0 {
				c.Offsets = []int32{0}
				return c, nil
			}
			offs, data := a.ValueOffsets(), a.ValueBytes()
			if offs[0] != 0 {
				rebased := make([]int32, n+1)
				for i, o := range offs[:n+1] {
					rebased[i] = o - offs[0]
				}
				offs = rebased
			}
			c.Offsets = offs[: n+1 : n+1]
			c.Data = data[:len(data):len(data)]
			return c, nil
		case stringValues:
			return buildStrings(a, t, name), nil
		}
		return c, mismatch
	case columnar.Bool:
		a, ok := arr.(*array.Boolean)
		if !ok {
			return c, mismatch
		}
		var values []byte
		if buf := a.Data().Buffers()[1]; buf != nil {
			values = buf.Bytes()
		}
		c.Bits = bitsAt(values, off, n)
		return c, nil
	case columnar.Int64:
		a, ok := arr.(*array.Int64)
		if !ok {
			return c, mismatch
		}
		c.Ints = a.Int64Values()
		return c, nil
	case columnar.Timestamp:
		a, ok := arr.(*array.Timestamp)
		if !ok {
			return c, mismatch
		}
		ts := a.TimestampValues()
		// arrow.Timestamp is an int64: the values are the format's as they are.
		c.Ints = unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(ts))), len(ts))
		unit := a.DataType().(*arrow.TimestampType).Unit
		if unit != arrow.Microsecond {
			micros := make([]int64, n)
			for i, v := range c.Ints {
				switch unit {
				case arrow.Second:
					micros[i] = v * 1e6
				case arrow.Millisecond:
					micros[i] = v * 1e3
				case arrow.Nanosecond:
					micros[i] = v / 1e3
				}
			}
			c.Ints = micros
		}
		return c, nil
	case columnar.StringList:
		type list interface {
			arrow.Array
			ListValues() arrow.Array
			ValueOffsets(int) (int64, int64)
		}
		a, ok := arr.(list)
		if !ok {
			return c, mismatch
		}
		values, ok := a.ListValues().(stringValues)
		if !ok {
			return c, mismatch
		}
		b := columnar.NewBuilder(t)
		var row []string
		for i := range n {
			if a.IsNull(i) {
				b.AppendNull()
				continue
			}
			start, end := a.ValueOffsets(i)
			row = row[:0]
			for k := start; k < end; k++ {
				row = append(row, values.Value(int(k)))
			}
			b.AppendList(row)
		}
		return b.Column(name), nil
	}
	return c, mismatch
}

// stringValues is an Arrow array of strings in another layout than
// columnar's (large strings, string views): read value by value.
type stringValues interface {
	arrow.Array
	Value(int) string
}

func buildStrings(a stringValues, t columnar.Type, name string) columnar.Column {
	b := columnar.NewBuilder(t)
	for i := range a.Len() {
		if a.IsNull(i) {
			b.AppendNull()
		} else {
			b.AppendString(a.Value(i))
		}
	}
	return b.Column(name)
}

// bitsAt returns n bits of bitmap b from bit off, in place when off is a
// whole byte.
func bitsAt(b []byte, off, n int) []byte {
	size := (n + 7) / 8
	if off%8 == 0 {
		return b[off/8 : off/8+size : off/8+size]
	}
	out := make([]byte, size)
	for i := range n {
		j := off + i
		if b[j/8]>>(j%8)&1 != 0 {
			out[i/8] |= 1 << (i % 8)
		}
	}
	return out
}

// toArrow wraps a column as an Arrow array of the field's type, without
// copying: the array's buffers are the column's.
func toArrow(c columnar.Column, f arrow.Field) arrow.Array {
	n := c.Len
	var valid *memory.Buffer
	nulls := 0
	if c.Valid != nil {
		nulls = n - onesCount(c.Valid, n)
		if nulls > 0 {
			valid = memory.NewBufferBytes(c.Valid)
		}
	}
	var d *array.Data
	switch c.Type {
	case columnar.String, columnar.JSON:
		d = array.NewData(arrow.BinaryTypes.String, n,
			[]*memory.Buffer{valid, memory.NewBufferBytes(int32Bytes(c.Offsets)), memory.NewBufferBytes(c.Data)}, nil, nulls, 0)
	case columnar.Bool:
		d = array.NewData(arrow.FixedWidthTypes.Boolean, n, []*memory.Buffer{valid, memory.NewBufferBytes(c.Bits)}, nil, nulls, 0)
	case columnar.Int64, columnar.Timestamp:
		d = array.NewData(f.Type, n, []*memory.Buffer{valid, memory.NewBufferBytes(int64Bytes(c.Ints))}, nil, nulls, 0)
	case columnar.StringList:
		child := array.NewData(arrow.BinaryTypes.String, len(c.Elems)-1,
			[]*memory.Buffer{nil, memory.NewBufferBytes(int32Bytes(c.Elems)), memory.NewBufferBytes(c.Data)}, nil, 0, 0)
		d = array.NewData(f.Type, n, []*memory.Buffer{valid, memory.NewBufferBytes(int32Bytes(c.Offsets))}, []arrow.ArrayData{child}, nulls, 0)
		child.Release()
	}
	a := array.MakeFromData(d)
	d.Release()
	return a
}

// arrayRecord makes a record batch of the arrays, which it retains.
func arrayRecord(sc *arrow.Schema, arrays []arrow.Array, rows int64) arrow.RecordBatch {
	return array.NewRecordBatch(sc, arrays, rows)
}

func onesCount(b []byte, n int) int {
	count := 0
	for i := range n / 8 {
		count += bits.OnesCount8(b[i])
	}
	if n%8 != 0 {
		count += bits.OnesCount8(b[n/8] & (1<<(n%8) - 1))
	}
	return count
}

func int32Bytes(v []int32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))
}

func int64Bytes(v []int64) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 8*len(v))
}

// head returns the first n rows of a column.
func head(c *columnar.Column, n int) columnar.Column {
	if c.Len == n {
		return *c
	}
	h := *c
	h.Len = n
	if h.Valid != nil {
		h.Valid = h.Valid[:(n+7)/8]
	}
	switch c.Type {
	case columnar.String, columnar.JSON:
		h.Offsets = c.Offsets[:n+1]
		h.Data = c.Data[:c.Offsets[n]]
	case columnar.Bool:
		h.Bits = c.Bits[:(n+7)/8]
	case columnar.Int64, columnar.Timestamp:
		h.Ints = c.Ints[:n]
	case columnar.StringList:
		h.Offsets = c.Offsets[:n+1]
		h.Elems = c.Elems[:c.Offsets[n]+1]
		h.Data = c.Data[:c.Elems[c.Offsets[n]]]
	}
	return h
}

// normalize makes the empty strings of a nullable string column null, as
// sdk/schema stores them, so that a transform that sets "" writes what the
// source would have.
func normalize(c columnar.Column, f arrow.Field) columnar.Column {
	if c.Type != columnar.String || !f.Nullable {
		return c
	}
	var valid []byte
	for i := range c.Len {
		if c.Offsets[i] != c.Offsets[i+1] || c.IsNull(i) {
			continue
		}
		if valid == nil {
			valid = make([]byte, (c.Len+7)/8)
			if c.Valid != nil {
				copy(valid, c.Valid)
			} else {
				for k := range valid {
					valid[k] = 0xff
				}
			}
		}
		valid[i/8] &^= 1 << (i % 8)
	}
	if valid != nil {
		c.Valid = valid
	}
	return c
}
