package undo_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/intercom"
	"github.com/ferryhq/ferry/host/intercom/openapicheck"
	"github.com/ferryhq/ferry/host/intercom/sandbox"
	"github.com/ferryhq/ferry/host/load"
	"github.com/ferryhq/ferry/host/stage"
	"github.com/ferryhq/ferry/host/stage/stagetest"
	"github.com/ferryhq/ferry/host/undo"
	"github.com/ferryhq/ferry/sdk/schema"
)

const token = "undo-test-token"

var t0 = time.Date(2024, 2, 1, 9, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

// fixture is a small help desk: two organizations, three end users (Ed's
// email, and Globex, are in Intercom before the load), three tickets with
// comments and an attachment (Una CC'd on Ed's), and a knowledge base of a
// category, a section in it and an article in each.
func fixture() []schema.Record {
	return []schema.Record{
		&schema.Organization{ID: "o1", Name: "Initech", CreatedAt: at(-1000)},
		&schema.Organization{ID: "o2", Name: "Globex", CreatedAt: at(-900)},
		&schema.User{ID: "a1", Role: schema.RoleAgent, Name: "Ada Admin", Email: "ada@ferry-sandbox.example"},
		&schema.User{ID: "u1", Role: schema.RoleEndUser, Name: "Una User", Email: "una@initech.example", OrganizationID: "o1", CreatedAt: at(-500)},
		&schema.User{ID: "u2", Role: schema.RoleEndUser, Name: "Existing Ed", Email: "ed@example.com", OrganizationID: "o1"},
		&schema.User{ID: "u3", Role: schema.RoleEndUser, Name: "Gus Globex", Email: "gus@globex.example", OrganizationID: "o2"},
		&schema.Ticket{ID: "t1", Subject: "Printer on fire", Status: "open", RequesterID: "u1", CreatedAt: at(0)},
		&schema.Comment{ID: "c1", TicketID: "t1", AuthorID: "u1", Public: true, BodyText: "It burns", BodyHTML: "<p>It burns</p>", CreatedAt: at(0)},
		&schema.Comment{ID: "c2", TicketID: "t1", AuthorID: "a1", Public: true, BodyHTML: "<p>Use water</p>", CreatedAt: at(5)},
		&schema.Attachment{ID: "f1", TicketID: "t1", CommentID: "c2", FileName: "f1.png", URL: "https://files.example/f1.png"},
		&schema.Ticket{ID: "t2", Subject: "Invoice", Status: "solved", RequesterID: "u2", CCIDs: []string{"u1"}, CreatedAt: at(10)},
		&schema.Comment{ID: "c3", TicketID: "t2", AuthorID: "u2", Public: true, BodyText: "Where is it?", BodyHTML: "<p>Where is it?</p>", CreatedAt: at(10)},
		&schema.Ticket{ID: "t3", Subject: "Hello", Status: "open", RequesterID: "u3", CreatedAt: at(20)},
		&schema.Comment{ID: "c4", TicketID: "t3", AuthorID: "u3", Public: true, BodyText: "Hi", BodyHTML: "<p>Hi</p>", CreatedAt: at(20)},
		&schema.KBCategory{KBEntry: schema.KBEntry{ID: "kc1", Title: "General", Locale: "en-us"}},
		&schema.KBCategory{KBEntry: schema.KBEntry{ID: "kc2", ParentID: "kc1", Title: "Billing", Locale: "en-us"}},
		&schema.KBArticle{KBEntry: schema.KBEntry{ID: "ka1", ParentID: "kc2", Title: "Invoices", BodyHTML: "<p>How to pay</p>", AuthorID: "a1", Locale: "en-us"}},
		&schema.KBArticle{KBEntry: schema.KBEntry{ID: "ka2", ParentID: "kc1", Title: "Welcome", BodyHTML: "<p>Hi</p>", AuthorID: "a1", Locale: "en-us"}},
	}
}

// stageAll writes records into a fresh workspace the way an extract does.
func stageAll(t testing.TB, recs []schema.Record) *stage.Workspace {
	t.Helper()
	return stagetest.StageAll(t, recs)
}

// env is a staged workspace, loaded into a sandbox that had Ed's contact
// and Globex's company (made an hour before the load) already.
type env struct {
	ws       *stage.Workspace
	sb       *sandbox.Server
	url      string
	ic       *intercom.Client
	ed       string // the contact Intercom had
	globex   string // the company Intercom had
	loadOpts load.Options
}

func newEnv(t *testing.T, sbOpts sandbox.Options, loadOpts load.Options) *env {
	t.Helper()
	var skew atomic.Int64 // the sandbox's clock is this far behind
	sbOpts.Token = token
	sbOpts.Now = func() time.Time { return time.Now().Add(-time.Duration(skew.Load())) }
	sb := sandbox.New(sbOpts)
	var h http.Handler = sb
	// Every request is checked against Intercom's OpenAPI description
	// when FERRY_INTERCOM_SPEC names it.
	checker, err := openapicheck.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if checker != nil {
		h = checker.Handler(sb, func(err error) { t.Errorf("a request does not match Intercom's OpenAPI description: %v", err) })
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ic, err := intercom.New(intercom.Options{BaseURL: srv.URL, Token: token, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{ws: stageAll(t, fixture()), sb: sb, url: srv.URL, ic: ic, loadOpts: loadOpts}
	skew.Store(int64(time.Hour))
	ed, err := ic.CreateContact(t.Context(), intercom.ContactRequest{Role: intercom.RoleUser, Email: "ed@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	globex, err := ic.UpsertCompany(t.Context(), intercom.CompanyRequest{CompanyID: "o2", Name: "Globex"})
	if err != nil {
		t.Fatal(err)
	}
	skew.Store(0)
	e.ed, e.globex = ed.ID, globex.ID
	e.load(t, 2)
	return e
}

func (e *env) load(t *testing.T, runID int64) {
	t.Helper()
	opts := e.loadOpts
	opts.RunID, opts.Concurrency = runID, 4
	if _, err := load.New(e.ws, e.ic, opts).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func (e *env) undo(t *testing.T, runID int64, opts undo.Options) undo.Result {
	t.Helper()
	opts.RunID, opts.TicketType = runID, e.loadOpts.TicketType
	res, err := undo.Run(t.Context(), e.ws, e.ic, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// query returns the rows of q as strings joined by "|".
func query(t *testing.T, ws *stage.Workspace, q string, args ...any) []string {
	t.Helper()
	rows, err := ws.DB().QueryContext(t.Context(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, v := range vals {
			s = append(s, fmt.Sprint(v))
		}
		out = append(out, strings.Join(s, "|"))
	}
	return out
}

func counts(res undo.Result) map[string]undo.Counts {
	out := map[string]undo.Counts{}
	for _, e := range res.Entities {
		out[e.Entity] = e.Counts
	}
	return out
}

// TestUndo loads the help desk, undoes it, and loads it again: undo
// deletes every object ferry created and nothing else, records each, and
// leaves the workspace so that the next load creates everything again.
func TestUndo(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, sandbox.Options{}, load.Options{})
	// The loader marks what it found in Intercom as adopted.
	if got := query(t, e.ws, `SELECT entity, source_id, intercom_id FROM id_map WHERE adopted ORDER BY 1`); !slices.Equal(got,
		[]string{"companies|o2|" + e.globex, "contacts|u2|" + e.ed}) {
		t.Fatalf("adopted = %v, want Globex and Ed", got)
	}
	first := e.sb.Snapshot()
	if len(first.Conversations) != 3 || len(first.Contacts) != 3 || len(first.Companies) != 2 || len(first.Collections) != 2 || len(first.Articles) != 2 {
		t.Fatalf("the load made %d conversations, %d contacts, %d companies, %d collections, %d articles",
			len(first.Conversations), len(first.Contacts), len(first.Companies), len(first.Collections), len(first.Articles))
	}

	plan, err := undo.Preview(ctx, e.ws)
	if err != nil {
		t.Fatal(err)
	}
	wantPlan := []undo.Planned{{Entity: "articles", Delete: 2}, {Entity: "collections", Delete: 2}, {Entity: "tickets", Delete: 3},
		{Entity: "contacts", Delete: 2, Adopted: 1}, {Entity: "companies", Delete: 1, Adopted: 1}}
	if !slices.Equal(plan, wantPlan) {
		t.Errorf("preview = %v, want %v", plan, wantPlan)
	}

	var progress atomic.Int32
	res := e.undo(t, 3, undo.Options{TagMigrated: "migrated", CustomAttributes: true, Progress: func(string, string) { progress.Add(1) }})
	want := map[string]undo.Counts{
		"articles": {Deleted: 2}, "collections": {Deleted: 2}, "tickets": {Deleted: 3},
		"contacts": {Deleted: 2, Kept: 1}, "companies": {Deleted: 1, Kept: 1},
	}
	if got := counts(res); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("undo = %v, want %v", got, want)
	}
	if progress.Load() != 12 || len(res.NotDeleted) != 2 || !strings.Contains(res.NotDeleted[0], `"migrated"`) {
		t.Errorf("progress told of %d objects (want 12); not deleted: %q", progress.Load(), res.NotDeleted)
	}

	// Intercom holds what it had before, and nothing ferry made.
	snap := e.sb.Snapshot()
	if len(snap.Contacts) != 1 || snap.Contacts[0].ID != e.ed || len(snap.Contacts[0].CompanyIDs) != 0 ||
		len(snap.Companies) != 1 || snap.Companies[0].ID != e.globex ||
		len(snap.Conversations)+len(snap.Collections)+len(snap.Articles) != 0 {
		t.Errorf("after undo the sandbox holds contacts %+v, companies %+v, %d conversations, %d collections, %d articles",
			snap.Contacts, snap.Companies, len(snap.Conversations), len(snap.Collections), len(snap.Articles))
	}

	// undo_log: newest first, one row per object, in reverse creation.
	log := query(t, e.ws, `SELECT entity, outcome, coalesce(reason, ''), run_id FROM undo_log ORDER BY recorded_at, entity, source_id`)
	if len(log) != 12 {
		t.Fatalf("undo_log has %d rows, want 12: %v", len(log), log)
	}
	order := []string{}
	for _, l := range log {
		if ent := strings.Split(l, "|")[0]; len(order) == 0 || order[len(order)-1] != ent {
			order = append(order, ent)
		}
	}
	if !slices.Equal(order, []string{"articles", "collections", "tickets", "contacts", "companies"}) {
		t.Errorf("undo went %v", order)
	}
	for _, l := range log {
		if strings.Contains(l, "kept") && !strings.Contains(l, "ferry did not create it (adopted existing ") || !strings.HasSuffix(l, "|3") {
			t.Errorf("undo_log row %q", l)
		}
	}
	if got := query(t, e.ws, `SELECT source_id, reason FROM undo_log WHERE outcome = 'kept' ORDER BY 1`); !slices.Equal(got,
		[]string{"o2|ferry did not create it (adopted existing company)", "u2|ferry did not create it (adopted existing contact)"}) {
		t.Errorf("kept: %v", got)
	}

	// The workspace: only the adopted objects are mapped, nothing is
	// migrated, no intent is left.
	if got := query(t, e.ws, `SELECT entity, source_id FROM id_map ORDER BY 1`); !slices.Equal(got, []string{"companies|o2", "contacts|u2"}) {
		t.Errorf("id map after undo: %v", got)
	}
	if got := query(t, e.ws, `SELECT entity, outcome, count(*) FROM ledger GROUP BY ALL ORDER BY ALL`); len(got) != 0 {
		t.Errorf("ledger after undo: %v", got)
	}
	if got := query(t, e.ws, `SELECT count(*) FROM intents`); got[0] != "0" {
		t.Errorf("%s intents after undo", got[0])
	}
	initech := first.Companies[slices.IndexFunc(first.Companies, func(c sandbox.Company) bool { return c.CompanyID == "o1" })].ID
	if undone, err := e.ws.Undone(ctx, stage.EntityCompanies, "o1", initech); err != nil || !undone {
		t.Errorf("Undone(o1) = %v, %v", undone, err)
	}
	if undone, err := e.ws.Undone(ctx, stage.EntityCompanies, "o2", e.globex); err != nil || undone {
		t.Errorf("Undone(o2), adopted = %v, %v", undone, err)
	}

	// A load creates again what undo took, and reuses what it adopted.
	e.load(t, 4)
	again := e.sb.Snapshot()
	if len(again.Conversations) != 3 || len(again.Contacts) != 3 || len(again.Companies) != 2 || len(again.Collections) != 2 || len(again.Articles) != 2 {
		t.Fatalf("the second load made %d conversations, %d contacts, %d companies, %d collections, %d articles",
			len(again.Conversations), len(again.Contacts), len(again.Companies), len(again.Collections), len(again.Articles))
	}
	ids, _ := e.ws.IDMap(ctx, stage.EntityCompanies)
	if ed, _ := again.Contact(e.ed); !slices.Equal(ed.CompanyIDs, []string{ids["o1"]}) {
		t.Errorf("Ed's companies after the second load: %v, want the new Initech %s", ed.CompanyIDs, ids["o1"])
	}
	for _, c := range again.Conversations {
		if len(c.Parts) == 0 && c.Source.RawBody == "" {
			t.Errorf("conversation %s is empty", c.ID)
		}
	}
	if got := query(t, e.ws, `SELECT entity, migrated FROM migration_summary WHERE migrated <> available ORDER BY 1`); len(got) != 0 {
		t.Errorf("not everything migrated again: %v", got)
	}
	if got := query(t, e.ws, `SELECT entity, source_id FROM id_map WHERE adopted ORDER BY 1`); !slices.Equal(got, []string{"companies|o2", "contacts|u2"}) {
		t.Errorf("adopted after the second load: %v", got)
	}

	// And a second undo takes it back again.
	res = e.undo(t, 5, undo.Options{})
	if tot := res.Total(); tot != (undo.Counts{Deleted: 10, Kept: 2}) {
		t.Errorf("second undo: %+v", tot)
	}
}

// TestUndoRefused: Intercom's plan does not let conversations be deleted.
// They are kept with Intercom's message, and so are their contacts (whose
// delete would take them) and those contacts' company; the rest goes.
func TestUndoRefused(t *testing.T) {
	e := newEnv(t, sandbox.Options{DeleteRestricted: []string{sandbox.KindConversation}}, load.Options{})
	res := e.undo(t, 3, undo.Options{Concurrency: 1})
	want := map[string]undo.Counts{
		"articles": {Deleted: 2}, "collections": {Deleted: 2}, "tickets": {Kept: 3},
		"contacts": {Kept: 3}, "companies": {Kept: 2},
	}
	if got := counts(res); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("undo = %v, want %v", got, want)
	}
	// Once Intercom said the plan does not allow it, the rest of the kind
	// is kept without asking again.
	if n := e.sb.Stats().Endpoints["DELETE /conversations/{conversation_id}"].Requests; n != 1 {
		t.Errorf("%d conversation deletes sent, want 1", n)
	}
	got := query(t, e.ws, `SELECT entity, source_id, reason FROM undo_log WHERE outcome = 'kept' ORDER BY 1, 2`)
	wantLog := []string{
		"companies|o1|contact u1, which depends on it, is still in Intercom",
		"companies|o2|ferry did not create it (adopted existing company)",
		"contacts|u1|ticket t1 and 1 more tickets, which depend on it, are still in Intercom",
		"contacts|u2|ferry did not create it (adopted existing contact)",
		"contacts|u3|ticket t3, which depends on it, is still in Intercom",
		"tickets|t1|Intercom refused to delete it: Active subscription needed. (403 api_plan_restricted)",
		"tickets|t2|Intercom refused to delete it: Active subscription needed. (403 api_plan_restricted)",
		"tickets|t3|Intercom refused to delete it: Active subscription needed. (403 api_plan_restricted)",
	}
	if !slices.Equal(got, wantLog) {
		t.Errorf("kept:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantLog, "\n"))
	}
	snap := e.sb.Snapshot()
	if len(snap.Conversations) != 3 || len(snap.Contacts) != 3 || len(snap.Companies) != 2 || len(snap.Collections)+len(snap.Articles) != 0 {
		t.Errorf("sandbox: %d conversations, %d contacts, %d companies, %d collections, %d articles",
			len(snap.Conversations), len(snap.Contacts), len(snap.Companies), len(snap.Collections), len(snap.Articles))
	}
	// What stays is still migrated; the knowledge base is not.
	if got := query(t, e.ws, `SELECT entity, migrated FROM migration_summary ORDER BY 1`); !slices.Equal(got, []string{
		"articles|0", "attachments|1", "collections|0", "comments|4", "companies|1", "contacts|2", "tickets|3"}) {
		t.Errorf("summary after a refused undo: %v", got)
	}
}

// TestUndoResumes: objects deleted before undo recorded them (a crash, or
// someone else) are recorded gone; a bad token stops the run before
// anything is recorded; tickets loaded as Intercom tickets are deleted as
// tickets.
func TestUndoResumes(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, load.Options{TicketType: "Support request"})
	ctx := t.Context()
	if n := len(e.sb.Snapshot().Tickets); n != 3 {
		t.Fatalf("%d Intercom tickets loaded, want 3", n)
	}
	bad, err := intercom.New(intercom.Options{BaseURL: e.url, Token: "wrong", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := undo.Run(ctx, e.ws, bad, undo.Options{RunID: 3, TicketType: "Support request"}); intercom.StatusCode(err) != 401 {
		t.Errorf("undo with a bad token: %v, want a 401", err)
	}
	if got := query(t, e.ws, `SELECT count(*) FROM undo_log`); got[0] != "0" {
		t.Errorf("a run stopped by a bad token recorded %s rows", got[0])
	}

	tickets, _ := e.ws.IDMap(ctx, stage.EntityTickets)
	articles, _ := e.ws.IDMap(ctx, stage.EntityArticles)
	if _, err := e.ic.DeleteTicket(ctx, tickets["t2"]); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ic.DeleteArticle(ctx, articles["ka1"]); err != nil {
		t.Fatal(err)
	}
	res := e.undo(t, 4, undo.Options{})
	want := map[string]undo.Counts{
		"articles": {Deleted: 1, Gone: 1}, "collections": {Deleted: 2}, "tickets": {Deleted: 2, Gone: 1},
		"contacts": {Deleted: 2, Kept: 1}, "companies": {Deleted: 1, Kept: 1},
	}
	if got := counts(res); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("undo = %v, want %v", got, want)
	}
	if got := query(t, e.ws, `SELECT source_id FROM undo_log WHERE outcome = 'gone' ORDER BY 1`); !slices.Equal(got, []string{"ka1", "t2"}) {
		t.Errorf("gone: %v", got)
	}
	if n := len(e.sb.Snapshot().Tickets); n != 0 {
		t.Errorf("%d Intercom tickets left", n)
	}
	if got := query(t, e.ws, `SELECT count(*) FROM ledger WHERE outcome = 'migrated'`); got[0] != "0" {
		t.Errorf("%s records still migrated", got[0])
	}
	if !slices.ContainsFunc(res.NotDeleted, func(s string) bool { return strings.Contains(s, `ticket type "Support request"`) }) {
		t.Errorf("not deleted: %q; want the ticket type", res.NotDeleted)
	}

	// Nothing left to delete: a rerun keeps the adopted ones, and sends
	// no delete.
	before := e.sb.Stats().Requests
	res = e.undo(t, 5, undo.Options{})
	if tot := res.Total(); tot != (undo.Counts{Kept: 2}) || e.sb.Stats().Requests != before {
		t.Errorf("rerun: %+v, %d requests", tot, e.sb.Stats().Requests-before)
	}
}

// TestUndoStops: a cancelled context stops the run with the context's error.
func TestUndoStops(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, load.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := undo.Run(ctx, e.ws, e.ic, undo.Options{RunID: 3}); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("undo with a cancelled context: %v", err)
	}
	if n := len(e.sb.Snapshot().Conversations); n != 3 {
		t.Errorf("%d conversations left, want 3", n)
	}
}
