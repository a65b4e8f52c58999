package transform

import (
	"encoding/json"
	"slices"
	"strings"
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
		{"SetString", func(r *Record) { r.SetString("a", `<y> "z"`) }, `{"b":1,"a":"<y> \"z\""}`},
		{"SetStrings", func(r *Record) { r.SetStrings("tags", []string{"p", "q"}) }, `{"b":1,"a":"x","tags":["p","q"]}`},
		{"SetStrings nil", func(r *Record) { r.SetStrings("tags", nil) }, `{"b":1,"a":"x","tags":null}`},
		{"SetStrings empty", func(r *Record) { r.SetStrings("tags", []string{}) }, `{"b":1,"a":"x","tags":[]}`},
		{"SetBool", func(r *Record) { r.SetBool("b", false) }, `{"b":false,"a":"x"}`},
		{"SetInt64", func(r *Record) { r.SetInt64("b", -7) }, `{"b":-7,"a":"x"}`},
		{"SetTime", func(r *Record) {
			r.SetTime("t", time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)))
		}, `{"b":1,"a":"x","t":"2024-01-02T02:04:05Z"}`},
		{"SetTime zero", func(r *Record) { r.SetTime("t", time.Time{}) }, `{"b":1,"a":"x","t":null}`},
		{"Set", func(r *Record) { _ = r.Set("c", map[string]int{"k": 1}) }, `{"b":1,"a":"x","c":{"k":1}}`},
		{"Set nil", func(r *Record) { _ = r.Set("a", nil) }, `{"b":1,"a":null}`},
		{"Set raw", func(r *Record) { _ = r.Set("c", json.RawMessage(` [1, 2] `)) }, `{"b":1,"a":"x","c":[1,2]}`},
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

func TestRecordSplice(t *testing.T) {
	tests := []struct {
		name string
		src  string
		set  func(r *Record)
		want string
	}{
		{"middle value", `{ "a" : 1 , "b" : {"x":[1,2]} , "c" : "z" }`, func(r *Record) { r.SetBool("b", true) },
			`{ "a" : 1 , "b" : true , "c" : "z" }`},
		{"set twice", `{"a":1,"b":2}`, func(r *Record) { r.SetInt64("a", 5); r.SetInt64("a", 6) }, `{"a":6,"b":2}`},
		{"set after a later read", `{"a":1,"b":2}`, func(r *Record) { r.Int64("b"); r.SetInt64("a", 7) }, `{"a":7,"b":2}`},
		{"add to empty", `{ }`, func(r *Record) { r.SetString("n", "v") }, `{ "n":"v"}`},
		{"add and change", `{"a":1}`, func(r *Record) { r.SetInt64("z", 2); r.SetInt64("a", 3) }, `{"a":3,"z":2}`},
		{"escaped name", `{"k\"ey":1,"\u0061":2}`, func(r *Record) { r.SetInt64(`k"ey`, 3); r.SetInt64("a", 4) },
			`{"k\"ey":3,"\u0061":4}`},
		{"added name escaped", `{}`, func(r *Record) { r.SetInt64(`q"`, 1) }, `{"q\"":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, tt.src)
			tt.set(r)
			got, _ := r.MarshalJSON()
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("%s is not valid JSON", got)
			}
		})
	}
}

// TestRecordReadsOnlyWhatItNeeds checks that reading a column scans the
// record only up to it: a module pays for every byte it looks at.
func TestRecordReadsOnlyWhatItNeeds(t *testing.T) {
	src := `{"id":"1","subject":"s","raw":{"big":"` + strings.Repeat("x", 1000) + `"}}`
	r := mustParse(t, src)
	r.String("subject")
	if r.done || r.scanned > len(`{"id":"1","subject":"s"`) {
		t.Errorf("reading subject scanned to %d of %d bytes", r.scanned, len(src))
	}
	r.SetString("subject", "t")
	if got, _ := r.MarshalJSON(); !strings.HasPrefix(string(got), `{"id":"1","subject":"t","raw":{"big":"xxx`) || r.done {
		t.Errorf("after a set: %.60s, scanned to the end: %v", got, r.done)
	}
}

// TestRecordSetBytesCopies checks that SetBytes keeps the value, not the
// caller's buffer, which the caller reuses.
func TestRecordSetBytesCopies(t *testing.T) {
	r := mustParse(t, `{"id":"1","subject":"a"}`)
	buf := append([]byte(nil), "new subject"...)
	r.SetBytes("subject", buf)
	copy(buf, "XXXXXXXXXXX")
	if got := r.String("subject"); got != "new subject" {
		t.Errorf("subject = %q after the buffer was reused", got)
	}
	b, _ := r.MarshalJSON()
	if string(b) != `{"id":"1","subject":"new subject"}` {
		t.Errorf("record = %s", b)
	}
}
