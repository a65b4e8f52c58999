package transform

import (
	"encoding/json"
	"maps"
	"testing"
	"unicode/utf8"
)

// scanMembers collects an object's members with nextMember.
func scanMembers(src []byte) map[string]string {
	out := map[string]string{}
	for i := 1; ; {
		m, ok := nextMember(src, i)
		if !ok {
			return out
		}
		name, _ := unquote(src[m.name.start-1 : m.name.end+1])
		out[name] = string(src[m.value.start:m.value.end])
		i = m.next
	}
}

func TestNextMember(t *testing.T) {
	tests := []struct {
		src  string
		want map[string]string
	}{
		{`{}`, map[string]string{}},
		{` { } `, map[string]string{}},
		{`{"a":1}`, map[string]string{"a": "1"}},
		{`{"a" : -1.5e3 , "b":true,"c":null}`, map[string]string{"a": "-1.5e3", "b": "true", "c": "null"}},
		{`{"s":"x\"}{][","t":"\\"}`, map[string]string{"s": `"x\"}{]["`, "t": `"\\"`}},
		{`{"o":{"p":[1,{"q":"]}"}]},"n":2}`, map[string]string{"o": `{"p":[1,{"q":"]}"}]}`, "n": "2"}},
		{`{"k\"ey":1,"\u00e9":2}`, map[string]string{`k"ey`: "1", "é": "2"}},
		{"{\n\t\"a\"\n:\n[ ]\n}", map[string]string{"a": "[ ]"}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			if got := scanMembers([]byte(tt.src)); !maps.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzScan checks the scanners against encoding/json on valid objects, and
// that the batch reader neither panics nor answers with invalid JSON on any
// input at all.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1,"b":[1,2,{"c":"]"}],"d":{"e":null}}`, `{"k\"":"v\\"}`, `{"stream":"x","records":[{"id":"1"},{}]}`,
		`{"stream":"x","records":[1,"a",{"b":[}]}`, `{"records":[{"a":`, `{"a"`, `{"a":}`, `{,}`, `{"a":1,,}`, `{"records":[,,]}`,
	} {
		f.Add([]byte(s))
	}
	in, err := newInstance(func(*Context) (Handler, error) {
		return func(_ *Context, r *Record) Result {
			r.String("id")
			r.SetString("zz", "new")
			return Keep(r)
		}, nil
	}, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want map[string]json.RawMessage
		// encoding/json turns invalid UTF-8 into U+FFFD; the scanners keep
		// bytes as they are, which is what a splice needs.
		if utf8.Valid(data) && json.Unmarshal(data, &want) == nil && want != nil {
			got := scanMembers(data)
			if len(got) != len(want) {
				t.Fatalf("%d members, want %d: %q", len(got), len(want), got)
			}
			for k, v := range want {
				if got[k] != string(v) {
					t.Fatalf("member %q = %q, want %q", k, got[k], v)
				}
			}
		}
		reply := in.Transform(FormatJSON, data)
		if !json.Valid(reply) && json.Valid(data) {
			t.Fatalf("reply to a valid batch is not valid JSON: %s", reply)
		}
	})
}
