package report

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ferryhq/ferry/host/stage"
	"github.com/ferryhq/ferry/sdk/schema"
)

// hostileReason is a failure's reason that would run if the page did not
// escape it, and a formula if the CSV did not neutralize it.
const hostileReason = `<script>document.title='pwned'</script> & "quoted" <b>bold</b>`

// formulaID is a source id a spreadsheet would run as a formula.
const formulaID = `=HYPERLINK("http://evil.example","click")`

// fixture is a workspace with a migration in it: staged records, a migrate
// run with failures and skips, a verify with mismatches (optional), and a
// delta run after it. want is every record's final outcome, as the ledger
// must hold it.
type fixture struct {
	dir  string
	want map[[2]string]stage.Outcome // entity, source id → outcome
	// Runs, by what they were.
	extractRun, migrateRun, verifyRun, deltaRun int64
}

// newFixture builds the workspace in a temporary folder and closes it,
// so that the report reads the file (as `ferry report` does when no ferry
// runs).
func newFixture(t *testing.T, verified bool) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{dir: t.TempDir(), want: map[[2]string]stage.Outcome{}}
	ws, err := stage.Open(ctx, f.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	run := func(command string) int64 {
		id, err := ws.StartRun(ctx, command)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	finish := func(id int64) {
		if err := ws.FinishRun(ctx, id, stage.RunSucceeded, ""); err != nil {
			t.Fatal(err)
		}
	}
	set := func(os ...stage.Outcome) {
		if err := ws.SetOutcomes(ctx, os); err != nil {
			t.Fatal(err)
		}
		for _, o := range os {
			f.want[[2]string{o.Entity, o.SourceID}] = o
		}
	}

	// The source: 4 organizations, 8 end users and an agent, 12 tickets of
	// two comments each, the first with an attachment; two more tickets
	// could not be read.
	f.extractRun = run("extract")
	var orgs, users, tickets, comments, atts []schema.Record
	for i := 1; i <= 4; i++ {
		orgs = append(orgs, &schema.Organization{ID: fmt.Sprint("o", i), Name: fmt.Sprint("Org ", i)})
	}
	users = append(users, &schema.User{ID: "a1", Role: schema.RoleAgent, Email: "agent@acme.example"})
	for i := 1; i <= 8; i++ {
		users = append(users, &schema.User{ID: fmt.Sprint("u", i), Role: schema.RoleEndUser, OrganizationID: fmt.Sprint("o", 1+i%4)})
	}
	for i := 1; i <= 12; i++ {
		id := fmt.Sprint("t", i)
		tickets = append(tickets, &schema.Ticket{ID: id, Subject: "Subject " + id, RequesterID: fmt.Sprint("u", 1+(i-1)%8)})
		comments = append(comments, &schema.Comment{ID: id + "-c1", TicketID: id, AuthorID: "u1", Public: true},
			&schema.Comment{ID: id + "-c2", TicketID: id, AuthorID: "a1", Public: true})
		atts = append(atts, &schema.Attachment{ID: id + "-a1", TicketID: id, CommentID: id + "-c1", FileName: "f.png"})
	}
	stageRecords(t, ws, f.extractRun, orgs, users, tickets, comments, atts)
	in, err := ws.NewIngest(ctx, f.extractRun)
	if err != nil {
		t.Fatal(err)
	}
	for id, reason := range map[string]string{"t13": "line 13: unreadable JSON", formulaID: "line 14: id is not a number"} {
		if err := in.RecordError(ctx, schema.Tickets, id, reason); err != nil {
			t.Fatal(err)
		}
		f.want[[2]string{stage.EntityTickets, id}] = stage.Outcome{Entity: stage.EntityTickets, SourceID: id, Outcome: stage.Failed,
			Reason: reason, Stage: "extract", RunID: f.extractRun}
	}
	if err := in.Checkpoint(ctx, schema.Tickets, nil); err != nil {
		t.Fatal(err)
	}
	in.Close()
	finish(f.extractRun)

	// The migration.
	f.migrateRun = run("migrate")
	r := f.migrateRun
	mig := func(entity, id string) stage.Outcome {
		return stage.Outcome{Entity: entity, SourceID: id, Outcome: stage.Migrated, IntercomID: "ic-" + id, Stage: "load", RunID: r}
	}
	failed := func(entity, id, reason string) stage.Outcome {
		return stage.Outcome{Entity: entity, SourceID: id, Outcome: stage.Failed, Reason: reason, Stage: "load", RunID: r}
	}
	skipped := func(entity, id, reason string) stage.Outcome {
		return stage.Outcome{Entity: entity, SourceID: id, Outcome: stage.Skipped, Reason: reason, Stage: "filter", RunID: r}
	}
	set(mig(stage.EntityCompanies, "o1"), mig(stage.EntityCompanies, "o2"), mig(stage.EntityCompanies, "o3"),
		failed(stage.EntityCompanies, "o4", `create company: 400 Bad Request: parameter_invalid: "Initech & Sons <Ltd>" is not a valid name`))
	for i := 1; i <= 7; i++ {
		set(mig(stage.EntityContacts, fmt.Sprint("u", i)))
	}
	set(failed(stage.EntityContacts, "u8", `create contact: 400 Bad Request: parameter_invalid: "not-an-email" is not a valid email`))
	for i := 1; i <= 12; i++ {
		id := fmt.Sprint("t", i)
		switch {
		case i <= 8:
			set(mig(stage.EntityTickets, id), mig(stage.EntityComments, id+"-c1"), mig(stage.EntityComments, id+"-c2"), mig(stage.EntityAttachments, id+"-a1"))
		case i == 9:
			set(failed(stage.EntityTickets, id, "requester u8 was not migrated"),
				failed(stage.EntityComments, id+"-c1", "requester u8 was not migrated"),
				failed(stage.EntityComments, id+"-c2", "not loaded: an earlier comment of ticket t9 failed"),
				failed(stage.EntityAttachments, id+"-a1", "its comment t9-c1 failed"))
		case i == 10:
			set(failed(stage.EntityTickets, id, hostileReason),
				failed(stage.EntityComments, id+"-c1", hostileReason),
				failed(stage.EntityComments, id+"-c2", "not loaded: an earlier comment of ticket t10 failed"),
				failed(stage.EntityAttachments, id+"-a1", "its comment t10-c1 failed"))
		default:
			reason := "filtered: status <> 'closed'"
			set(skipped(stage.EntityTickets, id, reason),
				skipped(stage.EntityComments, id+"-c1", "ticket "+id+" skipped: "+reason),
				skipped(stage.EntityComments, id+"-c2", "ticket "+id+" skipped: "+reason),
				skipped(stage.EntityAttachments, id+"-a1", "ticket "+id+" skipped: "+reason))
		}
	}
	finish(r)

	if verified {
		f.verifyRun = run("verify")
		var checks []stage.Check
		for i := 1; i <= 8; i++ {
			id := fmt.Sprint("t", i)
			for _, fact := range []string{stage.FactFound, stage.FactParts, stage.FactBodies} {
				checks = append(checks, stage.Check{Entity: stage.EntityTickets, SourceID: id, IntercomID: "ic-" + id, Fact: fact, OK: true})
			}
		}
		// t2's bodies differ, and t5's part count.
		checks[5] = stage.Check{Entity: stage.EntityTickets, SourceID: "t2", IntercomID: "ic-t2", Fact: stage.FactBodies,
			Expected: "<p>Hello</p>", Actual: "<p>Hello</p><img src=x onerror=alert(1)>", Reason: "part 2's body differs"}
		checks[13] = stage.Check{Entity: stage.EntityTickets, SourceID: "t5", IntercomID: "ic-t5", Fact: stage.FactParts,
			Expected: "2", Actual: "1", Reason: "Intercom holds 1 part of 2"}
		for i := 1; i <= 7; i++ {
			id := fmt.Sprint("u", i)
			checks = append(checks, stage.Check{Entity: stage.EntityContacts, SourceID: id, IntercomID: "ic-" + id, Fact: stage.FactEmail, OK: true})
		}
		checks[len(checks)-1] = stage.Check{Entity: stage.EntityContacts, SourceID: "u7", IntercomID: "ic-u7", Fact: stage.FactName,
			Expected: "Zoë Ashford", Actual: "Zoe Ashford", Reason: "the name differs"}
		if err := ws.WriteChecks(ctx, f.verifyRun, checks); err != nil {
			t.Fatal(err)
		}
		finish(f.verifyRun)
	}

	// A delta migration: ticket t14 is new, and t1 changed in the source.
	f.deltaRun = run("migrate")
	r = f.deltaRun
	stageRecords(t, ws, r, []schema.Record{&schema.Ticket{ID: "t14", Subject: "New", RequesterID: "u1"}},
		[]schema.Record{&schema.Comment{ID: "t14-c1", TicketID: "t14", AuthorID: "u1", Public: true}})
	set(mig(stage.EntityTickets, "t14"), mig(stage.EntityComments, "t14-c1"), mig(stage.EntityTickets, "t1"))
	finish(r)
	return f
}

// stageRecords stages records of each stream and commits them.
func stageRecords(t *testing.T, ws *stage.Workspace, runID int64, streams ...[]schema.Record) {
	t.Helper()
	ctx := t.Context()
	in, err := ws.NewIngest(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	for _, recs := range streams {
		b, err := schema.NewBuilder(memory.NewGoAllocator(), recs[0].Stream())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := b.Append(r); err != nil {
				t.Fatal(err)
			}
		}
		rec := b.NewRecordBatch()
		b.Release()
		err = in.Batch(ctx, recs[0].Stream(), rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := in.Checkpoint(ctx, "all", nil); err != nil {
		t.Fatal(err)
	}
}

// wantRows are the fixture's outcomes of one kind, as CSV rows (without
// recorded_at), sorted as the report sorts them.
func (f *fixture) wantRows(outcome string) [][]string {
	var rows [][]string
	for _, o := range f.want {
		if o.Outcome == outcome {
			rows = append(rows, []string{o.Entity, o.SourceID, o.IntercomID, o.Reason, o.Stage, fmt.Sprint(o.RunID)})
		}
	}
	slices.SortFunc(rows, func(a, b []string) int { return slices.Compare(a[:2], b[:2]) })
	return rows
}

// fixedNow is the clock of the tests' reports.
func fixedNow() time.Time { return time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC) }
