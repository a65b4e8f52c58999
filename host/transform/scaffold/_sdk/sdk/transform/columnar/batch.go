package columnar

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// The magic numbers that open a batch and a reply, so that a module handed
// the wrong format, or a host handed garbage, says so rather than misreading.
const (
	BatchMagic = "FRYB"
	ReplyMagic = "FRYR"
)

const (
	batchHeaderSize = 24
	batchColumnSize = 48
	replyHeaderSize = 40
	replyColumnSize = 48
	align           = 8
)

// maxSize bounds a batch and a reply: offsets are int32.
const maxSize = math.MaxInt32

// Batch is a columnar batch as a module reads it: Rows rows of Stream, one
// Column per column the host sent, id first. Its columns share the memory of
// the bytes it was read from.
type Batch struct {
	Stream  string
	Rows    int
	Columns []Column
}

// Column returns the index of the named column, or -1.
func (b *Batch) Column(name string) int {
	for i := range b.Columns {
		if b.Columns[i].Name == name {
			return i
		}
	}
	return -1
}

// section is a range of a batch or a reply.
type section struct{ off, len int }

// layout lays sections out one after another, each aligned; at is where
// the next one goes, and the size of what is laid out.
type layout struct{ at int }

// take lays out a section of n bytes. An empty section is at offset 0, as
// the format gives it.
func (l *layout) take(n int) section {
	s := section{l.at, n}
	if n == 0 {
		s.off = 0
	}
	l.at += (n + align - 1) &^ (align - 1)
	return s
}

// sections are a column's, as its descriptor gives them.
type sections struct {
	name, valid, b1, b2, b3 section
}

// BatchPlan is a batch laid out and ready to be written, for the host: it
// knows the batch's size before the module is asked for memory, and then
// writes it there without another copy.
type BatchPlan struct {
	stream   string
	cols     []Column
	sel      []int32
	rows     int
	size     int
	streamAt section
	secs     []sections
}

// PlanBatch lays out a batch of stream with the columns (id first, each
// flagged Written or not). With sel, the batch holds the rows sel lists, in
// that order; without, every row of the columns.
func PlanBatch(stream string, cols []Column, sel []int32) (*BatchPlan, error) {
	if len(cols) == 0 || cols[0].Name != "id" || cols[0].Type != String {
		return nil, errors.New("a batch's first column is the id, a string")
	}
	rows := cols[0].Len
	if sel != nil {
		rows = len(sel)
	}
	p := &BatchPlan{stream: stream, cols: cols, sel: sel, rows: rows, secs: make([]sections, len(cols))}
	l := layout{at: batchHeaderSize + batchColumnSize*len(cols)}
	take := l.take
	p.streamAt = take(len(stream))
	for i := range cols {
		c := &cols[i]
		if c.Len != cols[0].Len {
			return nil, fmt.Errorf("column %s has %d rows, the id %d", c.Name, c.Len, cols[0].Len)
		}
		if !c.Type.Valid() {
			return nil, fmt.Errorf("column %s: unknown type %d", c.Name, c.Type)
		}
		s := &p.secs[i]
		s.name = take(len(c.Name))
		if c.Valid != nil {
			s.valid = take(bitmapLen(rows))
		}
		switch c.Type {
		case String, JSON:
			s.b1 = take(4 * (rows + 1))
			s.b2 = take(c.dataLen(sel))
		case Bool:
			s.b1 = take(bitmapLen(rows))
		case Int64, Timestamp:
			s.b1 = take(8 * rows)
		case StringList:
			elems, bytes := c.listLen(sel)
			s.b1 = take(4 * (rows + 1))
			s.b2 = take(4 * (elems + 1))
			s.b3 = take(bytes)
		}
	}
	if l.at > maxSize {
		return nil, fmt.Errorf("a batch of %d bytes is over the format's %d", l.at, maxSize)
	}
	p.size = l.at
	return p, nil
}

// dataLen is the bytes of a String or JSON column's rows in sel.
func (c *Column) dataLen(sel []int32) int {
	if sel == nil {
		return int(c.Offsets[c.Len] - c.Offsets[0])
	}
	n := 0
	for _, r := range sel {
		n += int(c.Offsets[r+1] - c.Offsets[r])
	}
	return n
}

// listLen is the elements and bytes of a StringList column's rows in sel.
func (c *Column) listLen(sel []int32) (elems, bytes int) {
	if sel == nil {
		first, last := c.Offsets[0], c.Offsets[c.Len]
		return int(last - first), int(c.Elems[last] - c.Elems[first])
	}
	for _, r := range sel {
		first, last := c.Offsets[r], c.Offsets[r+1]
		elems += int(last - first)
		bytes += int(c.Elems[last] - c.Elems[first])
	}
	return elems, bytes
}

// Size returns the batch's size in bytes.
func (p *BatchPlan) Size() int { return p.size }

// Rows returns the batch's rows.
func (p *BatchPlan) Rows() int { return p.rows }

// Put writes the batch into dst, which has Size bytes; it writes every byte,
// padding included, so dst need not be cleared.
func (p *BatchPlan) Put(dst []byte) {
	dst = dst[:p.size]
	le := binary.LittleEndian
	copy(dst, BatchMagic)
	le.PutUint32(dst[4:], uint32(p.rows))
	le.PutUint32(dst[8:], uint32(len(p.cols)))
	le.PutUint32(dst[12:], uint32(p.streamAt.off))
	le.PutUint32(dst[16:], uint32(p.streamAt.len))
	le.PutUint32(dst[20:], 0)
	pad := func(s section) {
		end := s.off + s.len
		clear(dst[end : (end+align-1)&^(align-1)])
	}
	copy(dst[p.streamAt.off:], p.stream)
	pad(p.streamAt)
	for i := range p.cols {
		c, s := &p.cols[i], &p.secs[i]
		d := dst[batchHeaderSize+batchColumnSize*i:]
		var flags uint32
		if c.Written {
			flags = 1
		}
		for k, v := range [12]uint32{
			uint32(s.name.off), uint32(s.name.len), uint32(c.Type), flags,
			uint32(s.valid.off), uint32(s.valid.len),
			uint32(s.b1.off), uint32(s.b1.len), uint32(s.b2.off), uint32(s.b2.len), uint32(s.b3.off), uint32(s.b3.len),
		} {
			le.PutUint32(d[4*k:], v)
		}
		copy(dst[s.name.off:], c.Name)
		pad(s.name)
		if s.valid.len > 0 {
			putBits(dst[s.valid.off:s.valid.off+s.valid.len], c.Valid, c.Len, p.sel)
			pad(s.valid)
		}
		switch c.Type {
		case String, JSON:
			putStrings(dst[s.b1.off:s.b1.off+s.b1.len], dst[s.b2.off:s.b2.off+s.b2.len], c.Offsets, c.Data, p.sel)
		case Bool:
			putBits(dst[s.b1.off:s.b1.off+s.b1.len], c.Bits, c.Len, p.sel)
		case Int64, Timestamp:
			putInt64s(dst[s.b1.off:s.b1.off+s.b1.len], c.Ints, p.sel)
		case StringList:
			putLists(dst[s.b1.off:s.b1.off+s.b1.len], dst[s.b2.off:s.b2.off+s.b2.len], dst[s.b3.off:s.b3.off+s.b3.len], c, p.sel)
		}
		pad(s.b1)
		pad(s.b2)
		pad(s.b3)
	}
}

// putBits writes the bits of rows sel (all n rows without sel) of a bitmap.
func putBits(dst, bits []byte, n int, sel []int32) {
	if sel == nil {
		copy(dst, bits[:bitmapLen(n)])
		// Bits past the last row are the ABI's padding: zero.
		if n&7 != 0 {
			dst[len(dst)-1] &= byte(1)<<(uint(n)&7) - 1
		}
		return
	}
	clear(dst)
	for j, r := range sel {
		if bit(bits, int(r)) {
			setBit(dst, j)
		}
	}
}

// putStrings writes the offsets and bytes of rows sel of a String column.
func putStrings(offs, data []byte, offsets []int32, bytes []byte, sel []int32) {
	le := binary.LittleEndian
	if sel == nil {
		base := offsets[0]
		if base == 0 {
			putInt32s(offs, offsets)
		} else {
			for i, o := range offsets {
				le.PutUint32(offs[4*i:], uint32(o-base))
			}
		}
		copy(data, bytes[base:offsets[len(offsets)-1]])
		return
	}
	pos := 0
	le.PutUint32(offs, 0)
	for j, r := range sel {
		pos += copy(data[pos:], bytes[offsets[r]:offsets[r+1]])
		le.PutUint32(offs[4*(j+1):], uint32(pos))
	}
}

// putLists writes the list offsets, element offsets and bytes of rows sel of
// a StringList column.
func putLists(lists, elems, data []byte, c *Column, sel []int32) {
	le := binary.LittleEndian
	e, pos := 0, 0
	le.PutUint32(lists, 0)
	le.PutUint32(elems, 0)
	row := func(j int, r int32) {
		for k := c.Offsets[r]; k < c.Offsets[r+1]; k++ {
			pos += copy(data[pos:], c.Data[c.Elems[k]:c.Elems[k+1]])
			e++
			le.PutUint32(elems[4*e:], uint32(pos))
		}
		le.PutUint32(lists[4*(j+1):], uint32(e))
	}
	if sel == nil {
		for j := range c.Len {
			row(j, int32(j))
		}
		return
	}
	for j, r := range sel {
		row(j, r)
	}
}

// putInt32s writes v little-endian into dst.
func putInt32s(dst []byte, v []int32) {
	if littleEndian() && len(v) > 0 {
		copy(dst, unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v)))
		return
	}
	for i, x := range v {
		binary.LittleEndian.PutUint32(dst[4*i:], uint32(x))
	}
}

// putInt64s writes rows sel (all without sel) of v little-endian into dst.
func putInt64s(dst []byte, v []int64, sel []int32) {
	if sel == nil {
		if littleEndian() && len(v) > 0 {
			copy(dst, unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 8*len(v)))
			return
		}
		for i, x := range v {
			binary.LittleEndian.PutUint64(dst[8*i:], uint64(x))
		}
		return
	}
	for j, r := range sel {
		binary.LittleEndian.PutUint64(dst[8*j:], uint64(v[r]))
	}
}

// ReadBatch reads a batch. Its columns share src's memory, which must not
// change while they are in use. Everything is checked, offsets included, so
// that reading a column's values afterwards stays in bounds.
func ReadBatch(src []byte) (*Batch, error) {
	if len(src) < batchHeaderSize || string(src[:4]) != BatchMagic {
		return nil, fmt.Errorf("not a columnar batch (it does not start with %q)", BatchMagic)
	}
	le := binary.LittleEndian
	rows, ncols := int(le.Uint32(src[4:])), int(le.Uint32(src[8:]))
	stream, err := slice(src, section{int(le.Uint32(src[12:])), int(le.Uint32(src[16:]))})
	if err != nil {
		return nil, fmt.Errorf("stream name: %w", err)
	}
	if ncols == 0 || uint64(ncols)*batchColumnSize > uint64(len(src)-batchHeaderSize) {
		return nil, fmt.Errorf("%d columns do not fit in %d bytes", ncols, len(src))
	}
	// Every row takes at least the four bytes of the id's offset, which
	// bounds what a corrupt row count can make the reader allocate.
	if uint64(rows) > uint64(len(src)/4) {
		return nil, fmt.Errorf("%d rows do not fit in %d bytes", rows, len(src))
	}
	b := &Batch{Stream: string(stream), Rows: rows, Columns: make([]Column, ncols)}
	for i := range ncols {
		d := src[batchHeaderSize+batchColumnSize*i:]
		u := func(k int) int { return int(le.Uint32(d[4*k:])) }
		name, err := slice(src, section{u(0), u(1)})
		if err != nil {
			return nil, fmt.Errorf("column %d: name: %w", i, err)
		}
		c := &b.Columns[i]
		c.Name, c.Type, c.Written = string(name), Type(u(2)), u(3)&1 != 0
		s := sections{valid: section{u(4), u(5)}, b1: section{u(6), u(7)}, b2: section{u(8), u(9)}, b3: section{u(10), u(11)}}
		if err := readColumn(src, c, rows, s); err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
	}
	if b.Columns[0].Name != "id" || b.Columns[0].Type != String {
		return nil, errors.New("the first column is not the id")
	}
	return b, nil
}

// slice returns a section of src, capped, or an error when it is out of bounds.
func slice(src []byte, s section) ([]byte, error) {
	if s.off < 0 || s.len < 0 || uint64(s.off)+uint64(s.len) > uint64(len(src)) {
		return nil, fmt.Errorf("bytes %d to %d are out of the %d", s.off, uint64(s.off)+uint64(s.len), len(src))
	}
	return src[s.off : s.off+s.len : s.off+s.len], nil
}

// readColumn fills c, of rows rows, from its sections of src, checking them.
func readColumn(src []byte, c *Column, rows int, s sections) error {
	c.Len = rows
	if s.valid.len > 0 {
		valid, err := bitmap(src, s.valid, rows)
		if err != nil {
			return fmt.Errorf("validity: %w", err)
		}
		c.Valid = valid
	}
	var err error
	switch c.Type {
	case String, JSON:
		if c.Offsets, err = offsets(src, s.b1, rows); err != nil {
			return fmt.Errorf("offsets: %w", err)
		}
		if c.Data, err = slice(src, s.b2); err != nil {
			return fmt.Errorf("bytes: %w", err)
		}
		if int(c.Offsets[rows]) != len(c.Data) {
			return fmt.Errorf("offsets end at %d, the bytes at %d", c.Offsets[rows], len(c.Data))
		}
	case Bool:
		if c.Bits, err = bitmap(src, s.b1, rows); err != nil {
			return fmt.Errorf("values: %w", err)
		}
	case Int64, Timestamp:
		if s.b1.len != 8*rows {
			return fmt.Errorf("%d bytes of values for %d rows", s.b1.len, rows)
		}
		b, err := aligned(src, s.b1)
		if err != nil {
			return fmt.Errorf("values: %w", err)
		}
		c.Ints = int64s(b)
	case StringList:
		if c.Offsets, err = offsets(src, s.b1, rows); err != nil {
			return fmt.Errorf("list offsets: %w", err)
		}
		elems := int(c.Offsets[rows])
		if c.Elems, err = offsets(src, s.b2, elems); err != nil {
			return fmt.Errorf("element offsets: %w", err)
		}
		if c.Data, err = slice(src, s.b3); err != nil {
			return fmt.Errorf("bytes: %w", err)
		}
		if int(c.Elems[elems]) != len(c.Data) {
			return fmt.Errorf("element offsets end at %d, the bytes at %d", c.Elems[elems], len(c.Data))
		}
	default:
		return fmt.Errorf("unknown type %d", c.Type)
	}
	return nil
}

// aligned returns a section that starts at a multiple of 8 from src's start.
func aligned(src []byte, s section) ([]byte, error) {
	if s.off%align != 0 {
		return nil, fmt.Errorf("section at %d is not aligned to %d bytes", s.off, align)
	}
	return slice(src, s)
}

// bitmap returns a bitmap section of n bits.
func bitmap(src []byte, s section, n int) ([]byte, error) {
	if s.len != bitmapLen(n) {
		return nil, fmt.Errorf("%d bytes for a bitmap of %d bits", s.len, n)
	}
	return slice(src, s)
}

// offsets returns a section of n+1 int32 offsets that start at 0 and never
// decrease.
func offsets(src []byte, s section, n int) ([]int32, error) {
	if uint64(s.len) != 4*(uint64(n)+1) {
		return nil, fmt.Errorf("%d bytes for %d offsets", s.len, uint64(n)+1)
	}
	b, err := aligned(src, s)
	if err != nil {
		return nil, err
	}
	o := int32s(b)
	if o[0] != 0 {
		return nil, fmt.Errorf("offsets start at %d, not 0", o[0])
	}
	for i := 1; i < len(o); i++ {
		if o[i] < o[i-1] {
			return nil, fmt.Errorf("offset %d (%d) is before offset %d (%d)", i, o[i], i-1, o[i-1])
		}
	}
	return o, nil
}

// int32s views b as little-endian int32s, in place where the machine allows.
func int32s(b []byte) []int32 {
	n := len(b) / 4
	if n == 0 {
		return nil
	}
	if littleEndian() && uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
		return unsafe.Slice((*int32)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// int64s views b as little-endian int64s, in place where the machine allows.
func int64s(b []byte) []int64 {
	n := len(b) / 8
	if n == 0 {
		return nil
	}
	if littleEndian() && uintptr(unsafe.Pointer(&b[0]))%8 == 0 {
		return unsafe.Slice((*int64)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return out
}
