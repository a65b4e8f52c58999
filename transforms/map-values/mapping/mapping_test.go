package mapping

import (
	"maps"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ferryhq/ferry/sdk/schema"
)

// TestColumnsMatchSchema keeps the columns table true to sdk/schema: every
// string and list-of-strings column but id, with its kind.
func TestColumnsMatchSchema(t *testing.T) {
	if got, want := slices.Sorted(maps.Keys(columns)), slices.Sorted(slices.Values(schema.StreamNames())); !slices.Equal(got, want) {
		t.Errorf("streams %q, want %q", got, want)
	}
	for _, stream := range schema.StreamNames() {
		sc, err := schema.Schema(stream)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]kind{}
		for _, f := range sc.Fields() {
			switch {
			case f.Name == schema.PrimaryKey || schema.IsJSON(f):
			case arrow.TypeEqual(f.Type, arrow.BinaryTypes.String):
				want[f.Name] = scalar
			case arrow.TypeEqual(f.Type, arrow.ListOf(arrow.BinaryTypes.String)):
				want[f.Name] = list
			}
		}
		if !maps.Equal(columns[stream], want) {
			t.Errorf("columns[%s] = %v, want %v", stream, columns[stream], want)
		}
	}
}

// TestWithCustomFieldsMatchSchema keeps withCustomFields true to sdk/schema.
func TestWithCustomFieldsMatchSchema(t *testing.T) {
	for _, stream := range schema.StreamNames() {
		sc, err := schema.Schema(stream)
		if err != nil {
			t.Fatal(err)
		}
		if has := sc.HasField("custom_fields"); has != withCustomFields[stream] {
			t.Errorf("%s: custom_fields in the schema %v, in withCustomFields %v", stream, has, withCustomFields[stream])
		}
	}
}

// TestLookup checks that small tables (scanned) and large ones (hashed)
// map alike, strict or not.
func TestLookup(t *testing.T) {
	for _, n := range []int{1, smallTable, smallTable + 1, 100} {
		to := map[string]string{}
		for i := range n {
			to["v"+string(rune('a'+i%26))+string(rune('a'+i/26))] = "t" + string(rune('a'+i%26))
		}
		tb := newTable("x", to)
		for from, want := range to {
			if got, ok := tb.lookup(from, true); !ok || got != want {
				t.Errorf("n=%d: lookup(%q) = %q, %v, want %q", n, from, got, ok, want)
			}
		}
		if got, ok := tb.lookup("zz", false); !ok || got != "zz" {
			t.Errorf("n=%d: unmapped value not kept: %q, %v", n, got, ok)
		}
		if _, ok := tb.lookup("zz", true); ok {
			t.Errorf("n=%d: unmapped value passed strict mode", n)
		}
		if got, ok := tb.lookup("ta", true); !ok || got != "ta" {
			t.Errorf("n=%d: a target did not pass strict mode as itself: %q, %v", n, got, ok)
		}
	}
}
