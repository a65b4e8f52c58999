package transform

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/transform/columnar"
)

// canonColumn is a column of a canonical stream, with its type in the
// columnar format.
type canonColumn struct {
	typ   columnar.Type
	field arrow.Field
}

// canonical returns the columns of a canonical stream, in schema order.
func canonical(stream string) ([]canonColumn, error) {
	sc, err := schema.Schema(stream)
	if err != nil {
		return nil, err
	}
	cols := make([]canonColumn, sc.NumFields())
	for i, f := range sc.Fields() {
		t, err := typeOf(f)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", stream, err)
		}
		cols[i] = canonColumn{typ: t, field: f}
	}
	return cols, nil
}

// typeOf maps a column of a canonical schema to its columnar type.
func typeOf(f arrow.Field) (columnar.Type, error) {
	switch dt := f.Type.(type) {
	case *arrow.StringType:
		if schema.IsJSON(f) {
			return columnar.JSON, nil
		}
		return columnar.String, nil
	case *arrow.BooleanType:
		return columnar.Bool, nil
	case *arrow.Int64Type:
		return columnar.Int64, nil
	case *arrow.TimestampType:
		return columnar.Timestamp, nil
	case *arrow.ListType:
		if _, ok := dt.Elem().(*arrow.StringType); ok {
			return columnar.StringList, nil
		}
	}
	return 0, fmt.Errorf("column %s has type %s, which the columnar format does not carry", f.Name, f.Type)
}

// parseAccess reads a module's answer to ferry_columns for stream: nil (the
// module does not handle the stream), {"whole": true}, {"read": [...],
// "write": [...]} or {"error": "..."}. Names are checked against the
// stream's schema, so that a typo stops the module at load.
func parseAccess(stream string, answer []byte) (Access, error) {
	a, err := columnar.ParseDeclaration(answer)
	switch {
	case err != nil:
		return Access{}, fmt.Errorf("malformed answer %.100q: %w", answer, err)
	case a.Skip:
		return Access{Skip: true}, nil
	case a.Refusal != nil:
		return Access{}, errors.New(reason(*a.Refusal, "the module refused without a reason"))
	case a.Whole:
		return Access{Whole: true}, nil
	}
	cols, err := canonical(stream)
	if err != nil {
		return Access{}, err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.field.Name
	}
	for _, n := range slices.Concat(a.Read, a.Write) {
		if !slices.Contains(names, n) {
			return Access{}, fmt.Errorf("%q is not a column of %s (its columns: %s)", n, stream, strings.Join(names, ", "))
		}
	}
	acc := Access{Read: []string{schema.PrimaryKey}}
	for _, n := range names[1:] {
		if slices.Contains(a.Read, n) || slices.Contains(a.Write, n) {
			acc.Read = append(acc.Read, n)
		}
	}
	for _, n := range names {
		if slices.Contains(a.Write, n) {
			acc.Write = append(acc.Write, n)
		}
	}
	return acc, nil
}
