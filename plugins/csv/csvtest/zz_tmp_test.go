package csvtest

import "testing"

func TestZZDump(t *testing.T) {
	for _, f := range []string{CSV, JSONL} {
		e := Generate(Options{Seed: 1, Tickets: 6, EndUsers: 4, Agents: 2, Organizations: 2, Malformed: 2})
		w, err := e.Write("/tmp/csvsmoke/"+f, f)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s %v", w.Config, w.Malformed)
	}
	e := Generate(Options{Seed: 1, Tickets: 4, SingleFile: true})
	if _, err := e.Write("/tmp/csvsmoke/single", CSV); err != nil {
		t.Fatal(err)
	}
}
