package transform

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

const ticket = `{"id":"42","subject":"Hello \"world\"","status":"open","tags":["a","b"],"cc_ids":null,` +
	`"created_at":"2024-03-01T10:20:30.123456Z","public":true,"size":1234,"custom_fields":{"360":"x"},` +
	`"raw":{"id":42,"via":{"channel":"email"}}}`

func mustParse(t *testing.T, s string) *Record {
	t.Helper()
	r, err := ParseRecord([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRecordGetters(t *testing.T) {
	r := mustParse(t, ticket)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"ID", r.ID(), "42"},
		{"String escaped", r.String("subject"), `Hello "world"`},
		{"String plain", r.String("status"), "open"},
		{"String absent", r.String("priority"), ""},
		{"String null", r.String("cc_ids"), ""},
		{"String of a list", r.String("tags"), ""},
		{"Strings", r.Strings("tags"), []string{"a", "b"}},
		{"Strings null", r.Strings("cc_ids"), []string(nil)},
		{"Strings of a string", r.Strings("status"), []string(nil)},
		{"Bool", r.Bool("public"), true},
		{"Bool absent", r.Bool("inline"), false},
		{"Int64", r.Int64("size"), int64(1234)},
		{"Int64 of a string", r.Int64("id"), int64(0)},
		{"Time", r.Time("created_at"), time.Date(2024, 3, 1, 10, 20, 30, 123456000, time.UTC)},
		{"Time absent", r.Time("updated_at"), time.Time{}},
		{"Has null", r.Has("cc_ids"), true},
		{"Has absent", r.Has("priority"), false},
		{"Raw", string(r.Raw()), `{"id":42,"via":{"channel":"email"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			switch want := tt.want.(type) {
			case []string:
				if got := tt.got.([]string); !slices.Equal(got, want) || (got == nil) != (want == nil) {
					t.Errorf("got %#v, want %#v", got, want)
				}
			case time.Time:
				if got := tt.got.(time.Time); !got.Equal(want) {
					t.Errorf("got %v, want %v", got, want)
				}
			default:
				if tt.got != tt.want {
					t.Errorf("got %#v, want %#v", tt.got, tt.want)
				}
			}
		})
	}

	var via struct {
		Via struct{ Channel string } `json:"via"`
	}
	if err := r.Decode("raw", &via); err != nil || via.Via.Channel != "email" {
		t.Errorf("Decode(raw) = %v, %+v", err, via)
	}
	var n int
	if err := r.Decode("subject", &n); err == nil {
		t.Error("Decode of a string into an int: no error")
	}
}

func TestRecordSetters(t *testing.T) {
	tests := []struct {
		name string
		set  func(r *Record)
		want string
	}{
		{"nothing", func(*Record) {}, `{"b":1,"a":"x"}`},
		{"read only", func(r *Record) { r.String("a") }, `{"b":1,"a":"x"}`},
		{"SetString", func(r *Record) { r.SetString("a", `<y> "z"`) }, `{"a":"<y> \"z\"","b":1}`},
		{"SetStrings", func(r *Record) { r.SetStrings("tags", []string{"p", "q"}) }, `{"a":"x","b":1,"tags":["p","q"]}`},
		{"SetStrings nil", func(r *Record) { r.SetStrings("tags", nil) }, `{"a":"x","b":1,"tags":null}`},
		{"SetStrings empty", func(r *Record) { r.SetStrings("tags", []string{}) }, `{"a":"x","b":1,"tags":[]}`},
		{"SetBool", func(r *Record) { r.SetBool("b", false) }, `{"a":"x","b":false}`},
		{"SetInt64", func(r *Record) { r.SetInt64("b", -7) }, `{"a":"x","b":-7}`},
		{"SetTime", func(r *Record) {
			r.SetTime("t", time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)))
		}, `{"a":"x","b":1,"t":"2024-01-02T02:04:05Z"}`},
		{"SetTime zero", func(r *Record) { r.SetTime("t", time.Time{}) }, `{"a":"x","b":1,"t":null}`},
		{"Set", func(r *Record) { _ = r.Set("c", map[string]int{"k": 1}) }, `{"a":"x","b":1,"c":{"k":1}}`},
		{"Set nil", func(r *Record) { _ = r.Set("a", nil) }, `{"a":null,"b":1}`},
		{"Set raw", func(r *Record) { _ = r.Set("c", json.RawMessage(` [1, 2] `)) }, `{"a":"x","b":1,"c":[1,2]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, `{"b":1,"a":"x"}`)
			tt.set(r)
			got, _ := r.MarshalJSON()
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRecordSetInvalid(t *testing.T) {
	r := mustParse(t, `{"a":1}`)
	if err := r.Set("a", json.RawMessage(`{`)); err == nil {
		t.Error("Set of invalid JSON: no error")
	}
	if err := r.Set("a", func() {}); err == nil {
		t.Error("Set of a func: no error")
	}
	if got, _ := r.MarshalJSON(); string(got) != `{"a":1}` {
		t.Errorf("a failed Set changed the record: %s", got)
	}
}

func TestRecordClone(t *testing.T) {
	r := mustParse(t, `{"id":"1","subject":"s"}`)
	c := r.Clone()
	c.SetString("id", "1-2")
	if r.ID() != "1" || c.ID() != "1-2" || c.String("subject") != "s" {
		t.Errorf("after changing the clone: original %q, clone %q", r.ID(), c.ID())
	}
	n := NewRecord()
	n.SetString("id", "x")
	if got, _ := n.MarshalJSON(); string(got) != `{"id":"x"}` {
		t.Errorf("NewRecord: %s", got)
	}
}

func TestParseRecord(t *testing.T) {
	for _, s := range []string{``, `[]`, `"x"`, `{`, `{"a":}`, `null`} {
		if _, err := ParseRecord([]byte(s)); err == nil {
			t.Errorf("ParseRecord(%q): no error", s)
		}
	}
}
