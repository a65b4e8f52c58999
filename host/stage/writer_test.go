package stage

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestJournalSurvivesACrash writes what a load writes (intents, a clear,
// outcomes, id mappings), then stops the writer as a crash would, with the
// rows only in the journal and a last line cut short: the next open folds
// them into the tables as if written one after the other, and the cut line
// (never acknowledged) is left out.
func TestJournalSurvivesACrash(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	ws, err := OpenWith(ctx, dir, OpenOptions{foldEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	steps := []Settlement{
		{Intents: []Intent{{Entity: EntityTickets, SourceID: "t1", Step: 0, State: IntentIntended, Detail: `{"contact":"c"}`, RunID: 1}}},
		{Intents: []Intent{{Entity: EntityTickets, SourceID: "t1", Step: 0, State: IntentSent, IntercomID: "conv1", RunID: 1}}},
		{Clear: []RecordKey{{EntityTickets, "t1"}}, Outcomes: []Outcome{{Entity: EntityTickets, SourceID: "t1", Outcome: Migrated, IntercomID: "conv1", Stage: "load", RunID: 1}}},
		{Intents: []Intent{{Entity: EntityTickets, SourceID: "t2", Step: 0, State: IntentIntended, RunID: 1}}},
		{Outcomes: []Outcome{{Entity: EntityComments, SourceID: "x", Outcome: Failed, Reason: "first try", Stage: "load", RunID: 1}}},
		{Outcomes: []Outcome{{Entity: EntityComments, SourceID: "x", Outcome: Migrated, IntercomID: "part9", Stage: "load", RunID: 1}}},
		{IDs: []IDMapping{{Entity: EntityContacts, SourceID: "u1", IntercomID: "contact1", RunID: 1, Adopted: true}}},
	}
	for _, st := range steps {
		if err := ws.Settle(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	journals, _ := filepath.Glob(filepath.Join(dir, journalGlob))
	if len(journals) != 1 {
		t.Fatalf("journal files %v, want one", journals)
	}
	ws.w.abandon()
	ws.db.Close()
	f, err := os.OpenFile(journals[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"at":1,"l":[{"Entity":"tickets","SourceID":"t2","Outcome":"migr`)
	f.Close()

	ws, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if left, _ := filepath.Glob(filepath.Join(dir, journalGlob)); len(left) != 0 {
		t.Errorf("journals %v left after the open folded them", left)
	}
	intents, err := ws.Intents(ctx, EntityTickets)
	if err != nil {
		t.Fatal(err)
	}
	if len(intents) != 1 || len(intents["t2"]) != 1 || intents["t2"][0].State != IntentIntended {
		t.Errorf("intents %+v, want only t2's, intended (t1's were cleared)", intents)
	}
	tickets, err := ws.Outcomes(ctx, EntityTickets)
	if err != nil {
		t.Fatal(err)
	}
	comments, err := ws.Outcomes(ctx, EntityComments)
	if err != nil {
		t.Fatal(err)
	}
	if tickets["t1"] != Migrated || tickets["t2"] != "" || comments["x"] != Migrated {
		t.Errorf("outcomes: tickets %v, comments %v; want t1 and x migrated (the last outcome wins), t2 none (its line was cut)", tickets, comments)
	}
	for entity, want := range map[string]map[string]string{EntityTickets: {"t1": "conv1"}, EntityContacts: {"u1": "contact1"}, EntityComments: {"x": "part9"}} {
		got, err := ws.IDMap(ctx, entity)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("id map of %s: %v, want %s → %s", entity, got, k, v)
			}
		}
	}
	// The journal's time is the rows' time, not the fold's.
	var at time.Time
	if err := ws.DB().QueryRowContext(ctx, `SELECT recorded_at FROM ledger WHERE source_id = 't1'`).Scan(&at); err != nil {
		t.Fatal(err)
	}
	if time.Since(at) > time.Minute || time.Since(at) < 0 {
		t.Errorf("t1 recorded at %s, want the moment it was written", at)
	}
}

// TestReadsSeeTheJournal: what Settle acknowledged is read back at once,
// before any fold would have run on its own.
func TestReadsSeeTheJournal(t *testing.T) {
	ctx := t.Context()
	ws, err := OpenWith(ctx, t.TempDir(), OpenOptions{foldEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.SetOutcome(ctx, Outcome{Entity: EntityContacts, SourceID: "u7", Outcome: Migrated, IntercomID: "c7", Stage: "load", RunID: 1}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := ws.DB().QueryRowContext(ctx, `SELECT count(*) FROM id_map WHERE source_id = 'u7'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("id_map holds %d rows of u7 (%v), want the one just written", n, err)
	}
	got, err := ws.Outcomes(ctx, EntityContacts)
	if err != nil || got["u7"] != Migrated {
		t.Errorf("outcomes %v (%v), want u7 migrated", got, err)
	}
}
