package columnar

import "slices"

// Builder builds a [Column] row by row: a reply's written columns in a
// module, and the columns the host assembles from replies. Besides the
// validity bitmap it keeps a set bitmap, the reply's record of which rows a
// module gave a value (see [Builder.AppendUnset]).
//
// A Builder reuses its buffers after [Builder.Reset], so a Column it returned
// is valid only until then.
type Builder struct {
	typ     Type
	n       int
	valid   []byte
	set     []byte
	invalid int // rows with no value: null or unset
	unset   int
	offsets []int32
	elems   []int32
	data    []byte
	ints    []int64
	bits    []byte
}

// NewBuilder returns a Builder of a column of type t.
func NewBuilder(t Type) *Builder {
	b := &Builder{}
	b.Reset(t)
	return b
}

// Reset empties the builder for a column of type t, keeping its memory.
func (b *Builder) Reset(t Type) {
	b.typ, b.n, b.invalid, b.unset = t, 0, 0, 0
	b.valid, b.set = b.valid[:0], b.set[:0]
	b.offsets, b.elems = append(b.offsets[:0], 0), append(b.elems[:0], 0)
	b.data, b.ints, b.bits = b.data[:0], b.ints[:0], b.bits[:0]
}

// Grow makes room for n more rows of about bytes bytes in all, so that the
// appends that follow do not reallocate as they go.
func (b *Builder) Grow(n, bytes int) {
	grow := func(s []byte, k int) []byte {
		if cap(s)-len(s) < k {
			s = append(make([]byte, 0, len(s)+k), s...)
		}
		return s
	}
	b.valid = grow(b.valid, bitmapLen(n)+1)
	b.set = grow(b.set, bitmapLen(n)+1)
	switch b.typ {
	case String, JSON, StringList:
		if cap(b.offsets)-len(b.offsets) < n {
			b.offsets = append(make([]int32, 0, len(b.offsets)+n), b.offsets...)
		}
		b.data = grow(b.data, bytes)
	case Int64, Timestamp:
		if cap(b.ints)-len(b.ints) < n {
			b.ints = append(make([]int64, 0, len(b.ints)+n), b.ints...)
		}
	case Bool:
		b.bits = grow(b.bits, bitmapLen(n)+1)
	}
}

// Type returns the type of the column being built.
func (b *Builder) Type() Type { return b.typ }

// Len returns the rows appended so far.
func (b *Builder) Len() int { return b.n }

// next adds row n to the bitmaps, cleared, and returns it.
func (b *Builder) next() int {
	i := b.n
	if i&7 == 0 {
		b.valid = append(b.valid, 0)
		b.set = append(b.set, 0)
		if b.typ == Bool {
			b.bits = append(b.bits, 0)
		}
	}
	b.n++
	return i
}

// present marks row i as set and not null.
func (b *Builder) present(i int) {
	setBit(b.valid, i)
	setBit(b.set, i)
}

// empty appends the empty value that rows without a value hold.
func (b *Builder) empty() {
	switch b.typ {
	case String, JSON, StringList:
		b.offsets = append(b.offsets, b.offsets[len(b.offsets)-1])
	case Int64, Timestamp:
		b.ints = append(b.ints, 0)
	}
}

// AppendNull appends a null row (set: the module set the column to null).
func (b *Builder) AppendNull() {
	i := b.next()
	setBit(b.set, i)
	b.invalid++
	b.empty()
}

// AppendUnset appends a row the module gave no value: in a reply, a row
// whose column keeps the value it had. It reads as null.
func (b *Builder) AppendUnset() {
	b.next()
	b.invalid++
	b.unset++
	b.empty()
}

// AppendString appends a String or JSON row.
func (b *Builder) AppendString(s string) {
	b.present(b.next())
	b.data = append(b.data, s...)
	b.offsets = append(b.offsets, int32(len(b.data)))
}

// AppendBytes appends a String or JSON row.
func (b *Builder) AppendBytes(s []byte) {
	b.present(b.next())
	b.data = append(b.data, s...)
	b.offsets = append(b.offsets, int32(len(b.data)))
}

// AppendBool appends a Bool row.
func (b *Builder) AppendBool(v bool) {
	i := b.next()
	b.present(i)
	if v {
		setBit(b.bits, i)
	}
}

// AppendInt appends an Int64 or Timestamp row.
func (b *Builder) AppendInt(v int64) {
	b.present(b.next())
	b.ints = append(b.ints, v)
}

// AppendList appends a StringList row.
func (b *Builder) AppendList(v []string) {
	b.present(b.next())
	for _, s := range v {
		b.data = append(b.data, s...)
		b.elems = append(b.elems, int32(len(b.data)))
	}
	b.offsets = append(b.offsets, int32(len(b.elems)-1))
}

// AppendValue appends a row of the builder's type.
func (b *Builder) AppendValue(v Value) {
	if v.Null {
		b.AppendNull()
		return
	}
	switch b.typ {
	case String, JSON:
		b.AppendString(v.Str)
	case Bool:
		b.AppendBool(v.Bool)
	case Int64, Timestamp:
		b.AppendInt(v.Int)
	case StringList:
		b.AppendList(v.List)
	}
}

// AppendFrom appends row i of c, a column of the builder's type.
func (b *Builder) AppendFrom(c *Column, i int) {
	if c.IsNull(i) {
		b.AppendNull()
		return
	}
	switch b.typ {
	case String, JSON:
		b.present(b.next())
		b.data = append(b.data, c.Data[c.Offsets[i]:c.Offsets[i+1]]...)
		b.offsets = append(b.offsets, int32(len(b.data)))
	case Bool:
		b.AppendBool(c.BoolAt(i))
	case Int64, Timestamp:
		b.AppendInt(c.Ints[i])
	case StringList:
		b.present(b.next())
		for k := c.Offsets[i]; k < c.Offsets[i+1]; k++ {
			b.data = append(b.data, c.Data[c.Elems[k]:c.Elems[k+1]]...)
			b.elems = append(b.elems, int32(len(b.data)))
		}
		b.offsets = append(b.offsets, int32(len(b.elems)-1))
	}
}

// Column returns what was built, named name. It shares the builder's memory
// until the next Reset; Valid is nil when every row has a value.
func (b *Builder) Column(name string) Column {
	c := Column{Name: name, Type: b.typ, Len: b.n}
	if b.invalid > 0 {
		c.Valid = b.valid[:len(b.valid):len(b.valid)]
	}
	switch b.typ {
	case String, JSON:
		c.Offsets = b.offsets[:len(b.offsets):len(b.offsets)]
		c.Data = b.data[:len(b.data):len(b.data)]
	case Bool:
		c.Bits = b.bits[:len(b.bits):len(b.bits)]
	case Int64, Timestamp:
		c.Ints = b.ints[:len(b.ints):len(b.ints)]
	case StringList:
		c.Offsets = b.offsets[:len(b.offsets):len(b.offsets)]
		c.Elems = b.elems[:len(b.elems):len(b.elems)]
		c.Data = b.data[:len(b.data):len(b.data)]
	}
	return c
}

// Set returns the set bitmap (bit i: row i was given a value, null or not),
// or nil when every row was; it shares the builder's memory like Column.
func (b *Builder) Set() []byte {
	if b.unset == 0 {
		return nil
	}
	return b.set[:len(b.set):len(b.set)]
}

// Unset returns how many rows were appended with AppendUnset.
func (b *Builder) Unset() int { return b.unset }

// StringAt is a value of a sparse String column: row Row holds
// data[Start:End] of the data it is read with, or null when Start < 0.
type StringAt struct{ Row, Start, End int32 }

// FillSparseStrings builds, in an empty String or JSON builder, a column of
// rows rows in which the rows of at, in increasing order, are set to their
// values in data and the others are unset: a module's reply column, built in
// one pass without a call per row.
func (b *Builder) FillSparseStrings(rows int, at []StringAt, data []byte) {
	size := 0
	for _, a := range at {
		if a.Start >= 0 {
			size += int(a.End - a.Start)
		}
	}
	zeroed := func(s []byte, n int) []byte {
		s = slices.Grow(s[:0], n)[:n]
		clear(s)
		return s
	}
	b.n = rows
	b.valid, b.set = zeroed(b.valid, bitmapLen(rows)), zeroed(b.set, bitmapLen(rows))
	b.offsets = slices.Grow(b.offsets[:1], rows)[:rows+1]
	b.offsets[0] = 0
	b.data = slices.Grow(b.data[:0], size)
	next, end, nulls := 0, int32(0), 0
	for _, a := range at {
		for ; next < int(a.Row); next++ {
			b.offsets[next+1] = end
		}
		setBit(b.set, int(a.Row))
		if a.Start >= 0 {
			setBit(b.valid, int(a.Row))
			b.data = append(b.data, data[a.Start:a.End]...)
			end = int32(len(b.data))
		} else {
			nulls++
		}
		b.offsets[a.Row+1] = end
		next = int(a.Row) + 1
	}
	for ; next < rows; next++ {
		b.offsets[next+1] = end
	}
	b.unset = rows - len(at)
	b.invalid = b.unset + nulls
}
