package report

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ferryhq/ferry/host/stage"
)

// row is one row of a query's result, read column by column. Its getters
// copy what they return: a batch's memory goes with the batch.
type row struct {
	rec arrow.RecordBatch
	i   int
}

// each runs one read-only query over the workspace in dir through
// stage.Query (so that it works while another ferry holds the workspace)
// and calls fn with every row, batch by batch: a result of millions of rows
// is never held whole. what names the query in errors.
func each(ctx context.Context, dir, what, query string, fn func(row) error) error {
	rdr, err := stage.Query(ctx, dir, query)
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	defer rdr.Release()
	for rdr.Next() {
		if ctx.Err() != nil {
			return fmt.Errorf("read %s: %w", what, context.Cause(ctx))
		}
		rec := rdr.RecordBatch()
		for i := range int(rec.NumRows()) {
			if err := fn(row{rec, i}); err != nil {
				return fmt.Errorf("read %s: %w", what, err)
			}
		}
	}
	if err := rdr.Err(); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}

// str is column c as text ("" for NULL).
func (r row) str(c int) string {
	col := r.rec.Column(c)
	if col.IsNull(r.i) {
		return ""
	}
	switch a := col.(type) {
	case *array.String:
		return strings.Clone(a.Value(r.i))
	case *array.LargeString:
		return strings.Clone(a.Value(r.i))
	case *array.StringView:
		return strings.Clone(a.Value(r.i))
	}
	return col.ValueStr(r.i)
}

// int is column c as a whole number (0 for NULL).
func (r row) int(c int) int64 {
	col := r.rec.Column(c)
	if col.IsNull(r.i) {
		return 0
	}
	switch a := col.(type) {
	case *array.Int64:
		return a.Value(r.i)
	case *array.Int32:
		return int64(a.Value(r.i))
	case *array.Int16:
		return int64(a.Value(r.i))
	case *array.Int8:
		return int64(a.Value(r.i))
	case *array.Uint64:
		return int64(a.Value(r.i))
	case *array.Uint32:
		return int64(a.Value(r.i))
	}
	// Another integer type (a HUGEINT): its text.
	n, _ := strconv.ParseInt(col.ValueStr(r.i), 10, 64)
	return n
}

// time is column c as a UTC time (the zero time for NULL).
func (r row) time(c int) time.Time {
	col := r.rec.Column(c)
	if col.IsNull(r.i) {
		return time.Time{}
	}
	if a, ok := col.(*array.Timestamp); ok {
		return a.Value(r.i).ToTime(a.DataType().(*arrow.TimestampType).Unit).UTC()
	}
	t, _ := time.Parse(time.RFC3339Nano, col.ValueStr(r.i))
	return t
}
