package stage

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/sdk/schema"
)

// stageTickets stages n tickets (t1..tn, odd ones tagged spam), each with two
// comments and one attachment, and one requester each.
func stageTickets(t *testing.T, w *Workspace, n int) {
	t.Helper()
	in, err := w.NewIngest(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var tickets, comments, atts, users []schema.Record
	users = append(users, &schema.User{ID: "agent", Role: schema.RoleAgent})
	for i := 1; i <= n; i++ {
		id := fmt.Sprint("t", i)
		tags := []string{}
		if i%2 == 1 {
			tags = []string{"spam"}
		}
		tickets = append(tickets, &schema.Ticket{ID: id, RequesterID: fmt.Sprint("u", i), Tags: tags})
		users = append(users, &schema.User{ID: fmt.Sprint("u", i), Role: schema.RoleEndUser, OrganizationID: fmt.Sprint("o", i)})
		comments = append(comments, &schema.Comment{ID: id + "-c1", TicketID: id, AuthorID: fmt.Sprint("u", i)}, &schema.Comment{ID: id + "-c2", TicketID: id, AuthorID: "agent"})
		atts = append(atts, &schema.Attachment{ID: id + "-a1", TicketID: id, CommentID: id + "-c1"})
	}
	var orgs []schema.Record
	for i := 1; i <= n; i++ {
		orgs = append(orgs, &schema.Organization{ID: fmt.Sprint("o", i)})
	}
	for _, recs := range [][]schema.Record{tickets, comments, atts, users, orgs} {
		b := batch(t, recs...)
		if err := in.Batch(t.Context(), recs[0].Stream(), b); err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	if err := in.Checkpoint(t.Context(), "all", nil); err != nil {
		t.Fatal(err)
	}
}

func TestSelectWithAFilter(t *testing.T) {
	ctx := t.Context()
	w := openTest(t)
	stageTickets(t, w, 10)
	sel := Selection{Filter: "NOT list_contains(tags, 'spam')"}
	plan, err := PlanSelection(ctx, w.DB(), sel)
	if err != nil {
		t.Fatal(err)
	}
	want := Plan{Staged: 10, Kept: 5, FilteredOut: 5, Selected: 5, Comments: 10, Attachments: 5, ContactsToLoad: 10, CompaniesToLoad: 10,
		FilteredOutComments: 10, FilteredOutAttachments: 5}
	if plan != want {
		t.Errorf("plan = %+v\nwant   %+v", plan, want)
	}
	if _, err := w.Select(ctx, sel, 2); err != nil {
		t.Fatal(err)
	}
	if n := count(t, w, "SELECT count(*) FROM load_selection"); n != 5 {
		t.Errorf("%d selected", n)
	}
	var reason string
	w.DB().QueryRow("SELECT reason FROM ledger WHERE entity = 'tickets' AND source_id = 't1'").Scan(&reason)
	if reason != "filtered: NOT list_contains(tags, 'spam')" {
		t.Errorf("t1's reason = %q", reason)
	}
	if err := w.CascadeTicketOutcomes(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if n := count(t, w, "SELECT count(*) FROM ledger WHERE outcome = 'skipped' AND entity IN ('comments', 'attachments') AND reason LIKE 'ticket t% skipped: filtered: %'"); n != 15 {
		t.Errorf("%d comments and attachments follow the filtered tickets, want 15", n)
	}
	// A migrated ticket the filter would leave out stays migrated.
	w.SetOutcome(ctx, Outcome{Entity: EntityTickets, SourceID: "t2", Outcome: Migrated, IntercomID: "c2", Stage: "load", RunID: 2})
	// A new filter takes back the spam tickets: their skips go.
	if _, err := w.Select(ctx, Selection{Filter: "id <> 't2'"}, 3); err != nil {
		t.Fatal(err)
	}
	if n := count(t, w, "SELECT count(*) FROM ledger WHERE outcome = 'skipped'"); n != 0 {
		t.Errorf("%d skips left after the filter took the tickets back", n)
	}
	if n := count(t, w, "SELECT count(*) FROM ledger WHERE source_id = 't2' AND outcome = 'migrated'"); n != 1 {
		t.Error("a filter undid a migrated ticket")
	}
}

func TestSelectADemo(t *testing.T) {
	ctx := t.Context()
	w := openTest(t)
	stageTickets(t, w, 50)
	pick := func(seed uint64, run int64) []string {
		if _, err := w.Select(ctx, Selection{Demo: 4, Seed: seed}, run); err != nil {
			t.Fatal(err)
		}
		rows, _ := w.DB().Query("SELECT ticket_id FROM load_selection ORDER BY 1")
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		return ids
	}
	// Runs 2 and 3 with seed 7, then run 3 selects again (a migration's
	// next load pass: its picks are recorded once), then run 4 with 8.
	a, b := pick(7, 2), pick(7, 3)
	pick(7, 3)
	c := pick(8, 4)
	if len(a) != 4 || strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("seed 7 picked %v, then %v", a, b)
	}
	if strings.Join(a, ",") == strings.Join(c, ",") {
		t.Errorf("seeds 7 and 8 picked the same %v", a)
	}
	if n := count(t, w, "SELECT count(*) FROM demo_picks WHERE seed = '7'"); n != 8 {
		t.Errorf("%d picks recorded for seed 7, want 8 (two runs)", n)
	}
	if n := count(t, w, "SELECT count(*) FROM ledger"); n != 0 {
		t.Error("a demo must not mark the tickets it did not pick")
	}
	// A demo creates only the people and companies its tickets name.
	if n := count(t, w, "SELECT count(*) FROM users WHERE "+SelectedContacts(Selection{Demo: 4})); n != 4 {
		t.Errorf("a demo of 4 tickets creates %d contacts, want their 4 requesters", n)
	}
	if n := count(t, w, "SELECT count(*) FROM organizations WHERE "+SelectedCompanies(Selection{Demo: 4})); n != 4 {
		t.Errorf("a demo creates %d companies, want 4", n)
	}
	plan, err := PlanSelection(ctx, w.DB(), Selection{Demo: 4, Seed: 8})
	if err != nil || plan.Picked != 4 || plan.ContactsToLoad != 4 || plan.Comments != 8 {
		t.Errorf("demo plan = %+v, %v", plan, err)
	}
}
