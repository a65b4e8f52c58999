package schema

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Builder accumulates records of one stream into an Arrow record batch and
// keeps an estimate of the batch's size, so that callers can bound batches in
// bytes as well as rows.
type Builder struct {
	stream string
	rb     *array.RecordBuilder
	cols   columns
	rows   int
}

// NewBuilder returns a Builder for a canonical stream.
func NewBuilder(mem memory.Allocator, stream string) (*Builder, error) {
	sc, err := Schema(stream)
	if err != nil {
		return nil, err
	}
	rb := array.NewRecordBuilder(mem, sc)
	return &Builder{stream: stream, rb: rb, cols: columns{fields: rb.Fields()}}, nil
}

// Stream is the stream this Builder builds.
func (b *Builder) Stream() string { return b.stream }

// Append adds one record; it must belong to the Builder's stream.
func (b *Builder) Append(r Record) error {
	if r.Stream() != b.stream {
		return fmt.Errorf("append %s record %s to a %s batch", r.Stream(), r.SourceID(), b.stream)
	}
	b.cols.i = 0
	r.appendTo(&b.cols)
	b.rows++
	return nil
}

// Rows is the number of records appended since the last NewRecordBatch.
func (b *Builder) Rows() int { return b.rows }

// Bytes estimates the Arrow buffer bytes appended since the last
// NewRecordBatch: exact for variable-length data, which dominates, and a
// close upper bound for the rest.
func (b *Builder) Bytes() int64 { return b.cols.bytes }

// NewRecordBatch returns the records appended so far as one batch and resets
// the Builder. The caller releases the batch.
func (b *Builder) NewRecordBatch() arrow.RecordBatch {
	b.rows = 0
	b.cols.bytes = 0
	return b.rb.NewRecordBatch()
}

// Release frees the Builder's buffers.
func (b *Builder) Release() { b.rb.Release() }

// Size estimates the bytes a record adds to a batch, as Builder.Bytes counts
// them, without building anything.
func Size(r Record) int64 {
	c := columns{sizeOnly: true}
	r.appendTo(&c)
	return c.bytes
}

// columns appends one row's values to the record builder's fields in schema
// order; each record's appendTo calls it once per column. With sizeOnly it
// only counts bytes.
type columns struct {
	fields   []array.Builder
	i        int
	bytes    int64
	sizeOnly bool
}

func (c *columns) next() array.Builder {
	f := c.fields[c.i]
	c.i++
	return f
}

// ValidUTF8 returns s with each byte that is not part of a UTF-8 sequence
// replaced by U+FFFD, as JSON decoders read such bytes; s itself when it is
// valid, which is nearly always. Arrow's string columns hold UTF-8, and so
// does DuckDB: text a source holds in another encoding (a mail in Latin-1,
// a byte cut from a multi-byte character) is kept as far as it can be
// rather than failing its whole batch.
func ValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s { // an invalid byte ranges as one utf8.RuneError
		b.WriteRune(r)
	}
	return b.String()
}

func (c *columns) str(v string) {
	v = ValidUTF8(v)
	c.bytes += int64(len(v)) + 4
	if c.sizeOnly {
		return
	}
	c.next().(*array.StringBuilder).Append(v)
}

func (c *columns) opt(v string) {
	v = ValidUTF8(v)
	c.bytes += int64(len(v)) + 4
	if c.sizeOnly {
		return
	}
	b := c.next().(*array.StringBuilder)
	if v == "" {
		b.AppendNull()
		return
	}
	b.Append(v)
}

func (c *columns) json(v json.RawMessage) {
	if !utf8.Valid(v) {
		v = json.RawMessage(ValidUTF8(string(v)))
	}
	c.bytes += int64(len(v)) + 4
	if c.sizeOnly {
		return
	}
	b := c.next().(*array.StringBuilder)
	if len(v) == 0 || string(v) == "null" {
		b.AppendNull()
		return
	}
	b.BinaryBuilder.Append(v)
}

func (c *columns) boolean(v bool) {
	c.bytes++
	if c.sizeOnly {
		return
	}
	c.next().(*array.BooleanBuilder).Append(v)
}

func (c *columns) int64(v int64) {
	c.bytes += 8
	if c.sizeOnly {
		return
	}
	c.next().(*array.Int64Builder).Append(v)
}

func (c *columns) time(v time.Time) {
	c.bytes += 8
	if c.sizeOnly {
		return
	}
	b := c.next().(*array.TimestampBuilder)
	if v.IsZero() {
		b.AppendNull()
		return
	}
	b.Append(arrow.Timestamp(v.UnixMicro()))
}

func (c *columns) list(v []string) {
	// An absent list is stored empty, never null, so that SQL such as
	// NOT list_contains(tags, 'spam') keeps rows without tags.
	c.bytes += 4
	for _, s := range v {
		c.bytes += int64(len(ValidUTF8(s))) + 4
	}
	if c.sizeOnly {
		return
	}
	lb := c.next().(*array.ListBuilder)
	lb.Append(true)
	vb := lb.ValueBuilder().(*array.StringBuilder)
	for _, s := range v {
		vb.Append(ValidUTF8(s))
	}
}
