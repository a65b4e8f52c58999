package schema

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestEveryStreamHasSchemaAndRecord(t *testing.T) {
	for _, name := range StreamNames() {
		sc, err := Schema(name)
		if err != nil {
			t.Fatalf("Schema(%s): %v", name, err)
		}
		if sc.Field(0).Name != "id" || sc.Field(sc.NumFields()-1).Name != "raw" {
			t.Errorf("%s: columns must start with id and end with raw, got %v", name, sc)
		}
		r, err := New(name)
		if err != nil {
			t.Fatalf("New(%s): %v", name, err)
		}
		if r.Stream() != name {
			t.Errorf("New(%s).Stream() = %s", name, r.Stream())
		}
		// Appending an empty record must use exactly the schema's columns.
		b, err := NewBuilder(memory.NewGoAllocator(), name)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Append(r); err != nil {
			t.Fatal(err)
		}
		rec := b.NewRecordBatch()
		if rec.NumRows() != 1 || int(rec.NumCols()) != sc.NumFields() {
			t.Errorf("%s: batch %d rows × %d cols, schema has %d", name, rec.NumRows(), rec.NumCols(), sc.NumFields())
		}
		rec.Release()
		b.Release()
	}
	if _, err := Schema("nope"); err == nil {
		t.Error("Schema of an unknown stream must fail")
	}
}

func TestBuilderValues(t *testing.T) {
	created := time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC)
	b, err := NewBuilder(memory.NewGoAllocator(), Tickets)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	tk := &Ticket{ID: "42", Subject: "Printer on fire", Tags: []string{"vip", "printer"}, CustomFields: json.RawMessage(`{"7":"x"}`), CreatedAt: created, Raw: json.RawMessage(`{"id":42}`)}
	if err := b.Append(tk); err != nil {
		t.Fatal(err)
	}
	if err := b.Append(&Ticket{ID: "43"}); err != nil {
		t.Fatal(err)
	}
	if got, want := b.Bytes(), Size(tk)+Size(&Ticket{ID: "43"}); got != want {
		t.Errorf("Bytes() = %d, Size sum = %d", got, want)
	}
	if err := b.Append(&Comment{ID: "1", TicketID: "42"}); err == nil {
		t.Error("appending a comment to a tickets batch must fail")
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	if b.Rows() != 0 || b.Bytes() != 0 {
		t.Error("NewRecordBatch must reset the builder")
	}
	col := func(name string) int { return rec.Schema().FieldIndices(name)[0] }
	if got := rec.Column(col("subject")).(*array.String).Value(0); got != "Printer on fire" {
		t.Errorf("subject = %q", got)
	}
	if !rec.Column(col("subject")).IsNull(1) {
		t.Error("an empty optional string must be null")
	}
	if !rec.Column(col("created_at")).IsNull(1) {
		t.Error("a zero time must be null")
	}
	if got := int64(rec.Column(col("created_at")).(*array.Timestamp).Value(0)); got != created.UnixMicro() {
		t.Errorf("created_at = %d, want %d", got, created.UnixMicro())
	}
	tags := rec.Column(col("tags")).(*array.List)
	if tags.IsNull(1) {
		t.Error("an absent list must be stored empty, not null")
	}
	if s, e := tags.ValueOffsets(0); e-s != 2 {
		t.Errorf("row 0 has %d tags, want 2", e-s)
	}
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name, stream, in string
		wantErr          string
	}{
		{"ticket", Tickets, `{"id":"1","subject":"s","tags":["a"],"created_at":"2024-01-02T03:04:05.000006Z","raw":{"x":1}}`, ""},
		{"no id", Tickets, `{"subject":"s"}`, "no id"},
		{"bad json", Comments, `{"id":`, "decode comments"},
		{"unknown stream", "nope", `{}`, "unknown stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeJSON(tt.stream, []byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out, _ := json.Marshal(r)
			r2, err := DecodeJSON(tt.stream, out)
			if err != nil {
				t.Fatal(err)
			}
			out2, _ := json.Marshal(r2)
			if string(out) != string(out2) {
				t.Errorf("round trip changed the record:\n%s\n%s", out, out2)
			}
		})
	}
}

func TestRecordsInvertsBuilder(t *testing.T) {
	created := time.Date(2024, 3, 1, 12, 30, 0, 123000, time.UTC)
	want := []Record{
		&Ticket{ID: "42", Subject: "Printer on fire", Tags: []string{"vip", "printer"}, CCIDs: []string{"7"}, CustomFields: json.RawMessage(`{"7":"x"}`), CreatedAt: created, Raw: json.RawMessage(`{"id":42}`)},
		&Ticket{ID: "43", Tags: []string{}},
	}
	b, _ := NewBuilder(memory.NewGoAllocator(), Tickets)
	defer b.Release()
	for _, r := range want {
		b.Append(r)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	got, err := Records(Tickets, rec)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		g, _ := json.Marshal(got[i])
		w, _ := json.Marshal(want[i])
		if string(g) != string(w) {
			t.Errorf("row %d:\n got %s\nwant %s", i, g, w)
		}
	}
	if _, err := Records(Comments, rec); err == nil {
		t.Error("decoding a tickets batch as comments must fail")
	}
}

// TestBuilderValidUTF8: text that is not UTF-8 (Latin-1 bytes, a cut
// multi-byte character) goes into the batch with each stray byte made
// U+FFFD, as JSON decoders read it, in every kind of string column; valid
// text is kept as it is.
func TestBuilderValidUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"plain":               "plain",
		"Ren\xe9e M\xfcller":  "Ren\uFFFDe M\uFFFDller",
		"cut \xf0\x9f\x98":    "cut \uFFFD\uFFFD\uFFFD",
		"\xff\xfe":            "\uFFFD\uFFFD",
		"שלום 👋🏽 e\u0301":     "שלום 👋🏽 e\u0301",
		"already \uFFFD fine": "already \uFFFD fine",
	} {
		if got := ValidUTF8(in); got != want {
			t.Errorf("ValidUTF8(%q) = %q, want %q", in, got, want)
		}
	}
	b, err := NewBuilder(memory.NewGoAllocator(), Tickets)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	tk := &Ticket{ID: "7\xe9", Subject: "Caf\xe9", Status: "op\xe9n", Tags: []string{"cr\xe8me"}, Raw: json.RawMessage("{\"subject\":\"Caf\xe9\"}")}
	if err := b.Append(tk); err != nil {
		t.Fatal(err)
	}
	if got, want := b.Bytes(), Size(tk); got != want {
		t.Errorf("Bytes() = %d, Size = %d", got, want)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	col := func(name string) int { return rec.Schema().FieldIndices(name)[0] }
	for name, want := range map[string]string{"id": "7\uFFFD", "subject": "Caf\uFFFD", "status": "op\uFFFDn", "raw": "{\"subject\":\"Caf\uFFFD\"}"} {
		if got := rec.Column(col(name)).(*array.String).Value(0); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := rec.Column(col("tags")).(*array.List).ListValues().(*array.String).Value(0); got != "cr\uFFFDme" {
		t.Errorf("tag = %q", got)
	}
}

// TestRecordsMatchDecodeJSON: for every stream, a record with every field
// set and one with only its id decode from a batch exactly as from their
// canonical JSON form.
func TestRecordsMatchDecodeJSON(t *testing.T) {
	at := time.Date(2024, 3, 1, 12, 30, 0, 123000, time.UTC)
	for _, stream := range StreamNames() {
		t.Run(stream, func(t *testing.T) {
			full, _ := New(stream)
			fill(reflect.ValueOf(full).Elem(), at)
			bare, _ := New(stream)
			reflect.ValueOf(bare).Elem().FieldByIndex(mustField(t, reflect.TypeOf(bare).Elem(), "id").Index).SetString("bare-1")
			b, _ := NewBuilder(scribbler{memory.NewGoAllocator()}, stream)
			defer b.Release()
			for _, r := range []Record{full, bare} {
				if err := b.Append(r); err != nil {
					t.Fatal(err)
				}
			}
			rec := b.NewRecordBatch()
			got, err := Records(stream, rec)
			// The records outlive their batch, whose memory a host
			// (DuckDB) takes back.
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range []Record{full, bare} {
				data, _ := json.Marshal(r)
				want, err := DecodeJSON(stream, data)
				if err != nil {
					t.Fatal(err)
				}
				// An empty list reads as an empty list from a batch (as
				// the JSON from the workspace gives it); omitempty drops it
				// from this JSON form.
				emptyListsNil(reflect.ValueOf(got[i]).Elem())
				if !reflect.DeepEqual(got[i], want) {
					t.Errorf("row %d:\n got %#v\nwant %#v", i, got[i], want)
				}
			}
		})
	}
}

// fill sets every field of a record to a value of its own.
func fill(v reflect.Value, at time.Time) {
	for i := range v.NumField() {
		f := v.Field(i)
		name := v.Type().Field(i).Name
		switch {
		case f.Kind() == reflect.Struct && v.Type().Field(i).Anonymous:
			fill(f, at)
		case f.Type() == reflect.TypeFor[json.RawMessage]():
			f.SetBytes([]byte(fmt.Sprintf(`{"field":%q,"n":[1,2.5,null]}`, name)))
		case f.Type() == reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(at.Add(time.Duration(i) * time.Hour)))
		case f.Kind() == reflect.String:
			f.SetString(name + " é \"quoted\"")
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.Kind() == reflect.Int64:
			f.SetInt(int64(1000 + i))
		case f.Type() == reflect.TypeFor[[]string]():
			f.Set(reflect.ValueOf([]string{name, "b"}))
		default:
			panic("fill: a field of type " + f.Type().String())
		}
	}
}

func emptyListsNil(v reflect.Value) {
	for i := range v.NumField() {
		if f := v.Field(i); f.Type() == reflect.TypeFor[[]string]() && f.Len() == 0 {
			f.SetZero()
		}
	}
}

func mustField(t *testing.T, typ reflect.Type, name string) reflect.StructField {
	t.Helper()
	f, ok := fieldOf(typ, name)
	if !ok {
		t.Fatalf("%s has no field %s", typ, name)
	}
	return f
}

// TestRecordsRefuses: what DecodeJSON refuses, Records refuses too, and a
// JSON null (with space around it) is no value.
func TestRecordsRefuses(t *testing.T) {
	batch := func(id, custom string) arrow.RecordBatch {
		sc, _ := Schema(Tickets)
		rb := array.NewRecordBuilder(memory.NewGoAllocator(), sc)
		defer rb.Release()
		for i, f := range rb.Fields() {
			switch sc.Field(i).Name {
			case "id":
				f.(*array.StringBuilder).Append(id)
			case "custom_fields":
				f.(*array.StringBuilder).Append(custom)
			default:
				f.AppendNull()
			}
		}
		return rb.NewRecordBatch()
	}
	rec := batch("1", " null\n")
	got, err := Records(Tickets, rec)
	rec.Release()
	if err != nil || got[0].(*Ticket).CustomFields != nil {
		t.Errorf("a JSON null: %v, %v; want no value", got, err)
	}
	for name, rec := range map[string]arrow.RecordBatch{"no id": batch("", "{}"), "bad JSON": batch("1", "{nope")} {
		if _, err := Records(Tickets, rec); err == nil {
			t.Errorf("%s: no error", name)
		}
		rec.Release()
	}
}

// scribbler overwrites what it frees, as memory reused by its owner would
// be.
type scribbler struct{ memory.Allocator }

func (s scribbler) Free(b []byte) {
	for i := range b {
		b[i] = 0xAA
	}
	s.Allocator.Free(b)
}

func (s scribbler) Reallocate(size int, b []byte) []byte {
	nb := s.Allocate(size)
	copy(nb, b)
	s.Free(b)
	return nb
}
