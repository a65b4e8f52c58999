package schema

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Records decodes a batch of a canonical stream back into records: the
// inverse of Builder, for hosts and tests that read what a plugin sent.
//
// A record reads as DecodeJSON reads its canonical JSON form: a null cell
// leaves its field empty, a JSON column must hold valid JSON (and a JSON
// null is no value), and a record without an id is refused. The cells go
// straight into the record's fields: a loader reads every record it sends
// this way, and a trip through JSON cost it a sixth of its CPU.
func Records(stream string, rec arrow.RecordBatch) ([]Record, error) {
	want, err := Schema(stream)
	if err != nil {
		return nil, err
	}
	sc := rec.Schema()
	if sc.NumFields() != want.NumFields() {
		return nil, fmt.Errorf("decode %s batch: %d columns, the stream has %d", stream, sc.NumFields(), want.NumFields())
	}
	proto, err := New(stream)
	if err != nil {
		return nil, err
	}
	typ := reflect.TypeOf(proto).Elem()
	cols := make([]column, sc.NumFields())
	for i, f := range sc.Fields() {
		if f.Name != want.Field(i).Name {
			return nil, fmt.Errorf("decode %s batch: column %d is %s, want %s", stream, i, f.Name, want.Field(i).Name)
		}
		sf, ok := fieldOf(typ, f.Name)
		if !ok {
			return nil, fmt.Errorf("decode %s batch: no field for column %s", stream, f.Name)
		}
		cols[i] = column{arr: rec.Column(i), index: sf.Index, json: IsJSON(want.Field(i))}
	}
	out := make([]Record, 0, rec.NumRows())
	for row := range int(rec.NumRows()) {
		v := reflect.New(typ)
		for i, c := range cols {
			if err := c.set(v.Elem().FieldByIndex(c.index), row); err != nil {
				return nil, fmt.Errorf("decode %s batch: row %d column %s: %w", stream, row, sc.Field(i).Name, err)
			}
		}
		r := v.Interface().(Record)
		if r.SourceID() == "" {
			return nil, fmt.Errorf("decode %s record: no id", stream)
		}
		out = append(out, r)
	}
	return out, nil
}

// column is one column of a batch and the field of the record it fills.
type column struct {
	arr   arrow.Array
	index []int // of the field, through embedded structs
	json  bool
}

// fieldOf finds the field of a record type that a column fills: the one
// its JSON name names.
func fieldOf(typ reflect.Type, name string) (reflect.StructField, bool) {
	for _, f := range reflect.VisibleFields(typ) {
		if f.Anonymous {
			continue
		}
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// set puts the cell of row into f, as the canonical JSON form would decode
// into it.
func (c column) set(f reflect.Value, row int) error {
	if c.arr.IsNull(row) {
		return nil
	}
	switch a := c.arr.(type) {
	case *array.String:
		s := a.Value(row)
		if !c.json {
			if f.Kind() != reflect.String {
				return fmt.Errorf("text for a %s field", f.Type())
			}
			// Value's string shares the batch's memory, which goes
			// with the batch.
			f.SetString(strings.Clone(s))
			return nil
		}
		if f.Type() != reflect.TypeFor[json.RawMessage]() {
			return fmt.Errorf("JSON for a %s field", f.Type())
		}
		// As a value inside the JSON form: without the space around it,
		// and null for no value.
		s = strings.Trim(s, " \t\n\r")
		if !json.Valid([]byte(s)) {
			return fmt.Errorf("not valid JSON")
		}
		if s != "null" {
			f.SetBytes([]byte(s))
		}
	case *array.Boolean:
		if f.Kind() != reflect.Bool {
			return fmt.Errorf("a boolean for a %s field", f.Type())
		}
		f.SetBool(a.Value(row))
	case *array.Int64:
		if f.Kind() != reflect.Int64 {
			return fmt.Errorf("an integer for a %s field", f.Type())
		}
		f.SetInt(a.Value(row))
	case *array.Timestamp:
		if f.Type() != reflect.TypeFor[time.Time]() {
			return fmt.Errorf("a timestamp for a %s field", f.Type())
		}
		f.Set(reflect.ValueOf(time.UnixMicro(int64(a.Value(row))).UTC()))
	case *array.List:
		vals, ok := a.ListValues().(*array.String)
		if !ok {
			return fmt.Errorf("list of %s, want strings", a.ListValues().DataType())
		}
		if f.Type() != reflect.TypeFor[[]string]() {
			return fmt.Errorf("a list for a %s field", f.Type())
		}
		start, end := a.ValueOffsets(row)
		out := make([]string, 0, end-start)
		for j := start; j < end; j++ {
			out = append(out, strings.Clone(vals.Value(int(j))))
		}
		f.Set(reflect.ValueOf(out))
	default:
		return fmt.Errorf("unsupported column type %s", c.arr.DataType())
	}
	return nil
}
