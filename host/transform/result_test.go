package transform

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeResults(t *testing.T) {
	long := strings.Repeat("é", maxReason)
	tests := []struct {
		name  string
		reply string
		n     int
		want  []Result
		err   string // a substring of the error; "" for none
	}{
		{"all four", `{"results":[{"keep":{"id":"1"}},{"drop":"spam"},{"split":[{"id":"2"},{"id":"3"}]},{"error":"bad"}]}`, 4, []Result{
			{Outcome: Keep, Records: records(`{"id":"1"}`)},
			{Outcome: Drop, Reason: "spam"},
			{Outcome: Split, Records: records(`{"id":"2"}`, `{"id":"3"}`)},
			{Outcome: Error, Reason: "bad"},
		}, ""},
		{"no records", `{"results":[]}`, 0, []Result{}, ""},
		{"whitespace", " {\"results\" : [ {\"keep\" : { \"id\" : \"1\" } } ] }\n", 1, []Result{{Outcome: Keep, Records: records(`{ "id" : "1" }`)}}, ""},
		{"unknown keys ignored", `{"v":2,"results":[{"keep":{},"note":"x"}]}`, 1, []Result{{Outcome: Keep, Records: records(`{}`)}}, ""},
		{"empty reasons", `{"results":[{"drop":""},{"error":""}]}`, 2, []Result{
			{Outcome: Drop, Reason: "dropped by the transform"},
			{Outcome: Error, Reason: "failed by the transform without a reason"},
		}, ""},
		{"long reason", `{"results":[{"drop":"` + long + `"}]}`, 1, []Result{{Outcome: Drop, Reason: long[:maxReason] + "…"}}, ""},
		{"batch error", `{"error":"cannot"}`, 3, nil, "cannot"},
		{"too few", `{"results":[{"keep":{}}]}`, 2, nil, "1 results for 2 records"},
		{"too many", `{"results":[{"keep":{}},{"keep":{}}]}`, 1, nil, "2 results for 1 records"},
		{"neither", `{}`, 0, nil, "neither"},
		{"results null", `{"results":null}`, 0, nil, "neither"},
		{"not JSON", `results`, 1, nil, "malformed reply"},
		{"trailing data", `{"results":[]} x`, 0, nil, "malformed reply"},
		{"two outcomes", `{"results":[{"keep":{},"drop":"x"}]}`, 1, nil, "has 2 of keep"},
		{"no outcome", `{"results":[{}]}`, 1, nil, "has 0 of keep"},
		{"keep null", `{"results":[{"keep":null}]}`, 1, nil, "keep is not a JSON object"},
		{"keep array", `{"results":[{"keep":[1]}]}`, 1, nil, "keep is not a JSON object"},
		{"empty split", `{"results":[{"split":[]}]}`, 1, nil, "split into no records"},
		{"split of a string", `{"results":[{"split":["x"]}]}`, 1, nil, "split record 0 is not a JSON object"},
		{"drop not a string", `{"results":[{"drop":1}]}`, 1, nil, "malformed reply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeResults([]byte(tt.reply), tt.n, "")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d results, want %d", len(got), len(tt.want))
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.Outcome != w.Outcome || g.Reason != w.Reason || len(g.Records) != len(w.Records) {
					t.Fatalf("result %d = %+v, want %+v", i, g, w)
				}
				for j := range g.Records {
					if string(g.Records[j]) != string(w.Records[j]) {
						t.Errorf("result %d record %d = %s, want %s", i, j, g.Records[j], w.Records[j])
					}
				}
			}
		})
	}
	if _, err := decodeResults([]byte(`{"error":""}`), 1, ""); err == nil || err.Error() != "the module failed the batch without a reason" {
		t.Errorf("a batch error without a reason: %v", err)
	}
}

// FuzzDecodeResults checks that no reply, however malformed, panics the
// decoder, and that whatever it accepts holds to the ABI's promises.
func FuzzDecodeResults(f *testing.F) {
	seeds := []struct {
		reply string
		n     int
	}{
		{`{"results":[{"keep":{"id":"1"}},{"drop":"spam"},{"split":[{"id":"2"},{"id":"3"}]},{"error":"bad"}]}`, 4},
		{`{"results":[]}`, 0},
		{`{"error":"batch"}`, 2},
		{`{"results":[{"keep":null}]}`, 1},
		{`{"results":[{"split":[]}]}`, 1},
		{`{"results":[{"keep":{},"error":"x"}]}`, 1},
		{`{"results":[{"drop":"\ud800"}]}`, 1},
		{`{"results":[{"keep":{"a":[1,{"b":null}]}}]}`, 1},
		{``, 0},
		{`null`, 0},
	}
	for _, s := range seeds {
		f.Add([]byte(s.reply), s.n)
	}
	f.Fuzz(func(t *testing.T, reply []byte, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		results, err := decodeResults(reply, n, "")
		if err != nil {
			return
		}
		if len(results) != n {
			t.Fatalf("%d results for %d records", len(results), n)
		}
		for i, r := range results {
			switch r.Outcome {
			case Keep, Split:
				if r.Outcome == Keep && len(r.Records) != 1 || len(r.Records) == 0 {
					t.Fatalf("result %d: %v with %d records", i, r.Outcome, len(r.Records))
				}
				for _, rec := range r.Records {
					var obj map[string]any
					if json.Unmarshal(rec, &obj) != nil || obj == nil {
						t.Fatalf("result %d: record %s is not an object", i, rec)
					}
				}
			case Drop, Error:
				if r.Reason == "" || len(r.Reason) > maxReason+len("…") || !utf8.ValidString(r.Reason) || r.Records != nil {
					t.Fatalf("result %d: %v with reason %q and %d records", i, r.Outcome, r.Reason, len(r.Records))
				}
			default:
				t.Fatalf("result %d: outcome %v", i, r.Outcome)
			}
		}
	})
}

func TestEncodeBatch(t *testing.T) {
	got, err := encodeBatch(`tick"ets`, records(`{"id":"1"}`, " {\"id\":\"2\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"stream":"tick\"ets","records":[{"id":"1"},{"id":"2"}]}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	for _, bad := range []string{``, `[]`, `{`, `{"a":1} {"b":2}`, `null`, "{\"a\":\"\xff\"}"} {
		if _, err := encodeBatch("tickets", records(bad)); err == nil {
			t.Errorf("encodeBatch with record %q: no error", bad)
		}
	}
}
