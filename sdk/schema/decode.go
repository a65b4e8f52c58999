package schema

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Records decodes a batch of a canonical stream back into records: the
// inverse of Builder, for hosts and tests that read what a plugin sent.
func Records(stream string, rec arrow.RecordBatch) ([]Record, error) {
	want, err := Schema(stream)
	if err != nil {
		return nil, err
	}
	sc := rec.Schema()
	if sc.NumFields() != want.NumFields() {
		return nil, fmt.Errorf("decode %s batch: %d columns, the stream has %d", stream, sc.NumFields(), want.NumFields())
	}
	out := make([]Record, 0, rec.NumRows())
	obj := make(map[string]any, sc.NumFields())
	for row := range int(rec.NumRows()) {
		clear(obj)
		for i, f := range sc.Fields() {
			if f.Name != want.Field(i).Name {
				return nil, fmt.Errorf("decode %s batch: column %d is %s, want %s", stream, i, f.Name, want.Field(i).Name)
			}
			v, err := value(rec.Column(i), row, IsJSON(want.Field(i)))
			if err != nil {
				return nil, fmt.Errorf("decode %s batch: row %d column %s: %w", stream, row, f.Name, err)
			}
			if v != nil {
				obj[f.Name] = v
			}
		}
		data, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		r, err := DecodeJSON(stream, data)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// value is one cell in the form the canonical JSON encoding gives it.
func value(col arrow.Array, row int, isJSON bool) (any, error) {
	if col.IsNull(row) {
		return nil, nil
	}
	switch c := col.(type) {
	case *array.String:
		if isJSON {
			s := c.Value(row)
			if !json.Valid([]byte(s)) {
				return nil, fmt.Errorf("not valid JSON")
			}
			return json.RawMessage(s), nil
		}
		return c.Value(row), nil
	case *array.Boolean:
		return c.Value(row), nil
	case *array.Int64:
		return c.Value(row), nil
	case *array.Timestamp:
		return time.UnixMicro(int64(c.Value(row))).UTC(), nil
	case *array.List:
		start, end := c.ValueOffsets(row)
		vals, ok := c.ListValues().(*array.String)
		if !ok {
			return nil, fmt.Errorf("list of %s, want strings", c.ListValues().DataType())
		}
		out := make([]string, 0, end-start)
		for j := start; j < end; j++ {
			out = append(out, vals.Value(int(j)))
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported column type %s", col.DataType())
}
