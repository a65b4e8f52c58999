package transform

import (
	"slices"
	"testing"
)

func TestChain(t *testing.T) {
	r := newRuntime(t, Options{})
	example, misbehave := mustWasm(t, exampleWasm), mustWasm(t, misbehaveWasm)
	tagA := load(t, r, example, "tag-a", `{"prefix":"A"}`)
	tagB := load(t, r, example, "tag-b", `{"prefix":"B"}`)
	mis := load(t, r, misbehave, "misbehave", "")
	mis2 := load(t, r, misbehave, "misbehave-2", "")

	type want struct {
		outcome  Outcome
		subjects []string // of the records, for a keep or split
		reason   string
		module   *Module
	}
	tests := []struct {
		name    string
		chain   []*Module
		stream  string
		records []string
		want    []want
	}{
		{"order", []*Module{tagA, tagB}, "tickets", []string{`{"id":"1","subject":"s"}`},
			[]want{{Keep, []string{"[B-1] [A-1] s"}, "", tagB}}},
		{"reverse order", []*Module{tagB, tagA}, "tickets", []string{`{"id":"1","subject":"s"}`},
			[]want{{Keep, []string{"[A-1] [B-1] s"}, "", tagA}}},
		{"empty chain", nil, "tickets", []string{`{"id":"1","subject":"s"}`},
			[]want{{Keep, []string{"s"}, "", nil}}},
		{"dropped and failed records stop, split records go on", []*Module{mis, tagA}, "tickets", []string{
			`{"id":"1","subject":"s"}`,
			`{"id":"2","subject":"s","do":"drop"}`,
			`{"id":"3","subject":"s","do":"split"}`,
			`{"id":"4","subject":"s","do":"error"}`,
		}, []want{
			{Keep, []string{"[A-1] s"}, "", tagA},
			{Drop, nil, "dropped 2", mis},
			{Split, []string{"[A-3-a] s", "[A-3-b] s"}, "", tagA},
			{Error, nil, "failed 4", mis},
		}},
		{"what becomes of split halves", []*Module{mis, mis2, tagA}, "tickets", []string{
			`{"id":"5","subject":"s","do":"split","b":"error"}`,
			`{"id":"6","subject":"s","do":"split","a":"drop","b":"drop"}`,
			`{"id":"7","subject":"s","do":"split","a":"drop"}`,
			`{"id":"8","subject":"s","do":"split","a":"split"}`,
		}, []want{
			{Error, nil, "failed 5-b", mis2},
			{Drop, nil, "dropped 6-a", mis2},
			{Keep, []string{"[A-7-b] s"}, "", tagA},
			{Split, []string{"[A-8-a-a] s", "[A-8-a-b] s", "[A-8-b] s"}, "", tagA},
		}},
		{"a batch failure downstream fails every record that reached it", []*Module{tagA, mis}, "count", []string{
			`{"id":"1","subject":"s"}`, `{"id":"2","subject":"s"}`,
		}, []want{
			{Error, nil, "transform misbehave: the module returned 1 results for 2 records", mis},
			{Error, nil, "transform misbehave: the module returned 1 results for 2 records", mis},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chain := NewChain(tt.chain...)
			results, err := chain.Apply(t.Context(), tt.stream, records(tt.records...))
			if err != nil {
				t.Fatal(err)
			}
			if len(results) != len(tt.want) {
				t.Fatalf("%d results for %d records", len(results), len(tt.want))
			}
			for i, w := range tt.want {
				got := results[i]
				var subjects []string
				for _, rec := range got.Records {
					s, _ := field(t, rec, "subject").(string)
					subjects = append(subjects, s)
				}
				wantSHA := ""
				if w.module != nil {
					wantSHA = w.module.SHA256()
				}
				if got.Outcome != w.outcome || got.Reason != w.reason || !slices.Equal(subjects, w.subjects) || got.ModuleSHA256 != wantSHA {
					t.Errorf("record %d: got %v %q %q by %.8s, want %v %q %q by %.8s",
						i, got.Outcome, got.Reason, subjects, got.ModuleSHA256, w.outcome, w.reason, w.subjects, wantSHA)
				}
			}
		})
	}
	if got := NewChain(tagA, tagB).Modules(); len(got) != 2 || got[0] != tagA || got[1] != tagB {
		t.Errorf("Modules() = %v", got)
	}
}

func TestChainClose(t *testing.T) {
	r := newRuntime(t, Options{})
	example := mustWasm(t, exampleWasm)
	chain := NewChain(load(t, r, example, "a", ""), load(t, r, example, "b", ""))
	if err := chain.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, m := range chain.Modules() {
		if _, err := m.Apply(t.Context(), "tickets", records(`{"id":"1"}`)); err == nil {
			t.Errorf("module %s still applies after the chain's Close", m.Name())
		}
	}
}
