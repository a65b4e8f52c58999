package load

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/intercom"
	"github.com/ferryhq/ferry/host/intercom/sandbox"
	"github.com/ferryhq/ferry/host/stage"
	"github.com/ferryhq/ferry/host/stage/stagetest"
	"github.com/ferryhq/ferry/sdk/schema"
)

const token = "load-test-token"

var t0 = time.Date(2024, 2, 1, 9, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

// fixture is a small help desk with one of each case the loader handles.
func fixture() []schema.Record {
	recs := []schema.Record{
		&schema.Organization{ID: "o1", Name: "Initech", Domains: []string{"initech.example"}, CreatedAt: at(-1000), CustomFields: json.RawMessage(`{"tier":"gold"}`)},
		// Ticket fields: system ones (the loader maps them itself) and
		// custom ones, which become conversation attributes.
		&schema.TicketField{ID: "f-subject", Title: "Subject", Type: "subject", Active: true},
		&schema.TicketField{ID: "f1", Title: "Product", Type: "tagger", Active: true, Options: json.RawMessage(`[{"name":"Web app","value":"product_web"},{"name":"API","value":"product_api"}]`)},
		&schema.TicketField{ID: "f2", Title: "Order number", Type: "integer", Active: true},
		&schema.TicketField{ID: "f3", Title: "VIP customer", Type: "checkbox", Active: true},
		&schema.TicketField{ID: "f4", Title: "Follow-up date", Type: "date", Active: true},
		// No one works here: Intercom will not show it.
		&schema.Organization{ID: "o2", Name: "Ghost Corp"},
		&schema.Group{ID: "g1", Name: "Support"},
		&schema.User{ID: "a1", Role: schema.RoleAgent, Name: "Ada Admin", Email: "ada@ferry-sandbox.example"},
		&schema.User{ID: "a2", Role: schema.RoleAgent, Name: "Unmapped Agent", Email: "nobody@acme.example"},
		&schema.User{ID: "u1", Role: schema.RoleEndUser, Name: "Una User", Email: "una@initech.example", OrganizationID: "o1", CreatedAt: at(-500), Phone: "(415) 555-0132 ext. 9",
			CustomFields: json.RawMessage(`{"plan":"business","seats":12,"account number":"AC-1"}`)},
		&schema.User{ID: "u2", Role: schema.RoleEndUser, Name: "Existing Ed", Email: "ed@example.com"},
		// A phone that is no number: the contact is made without it.
		&schema.User{ID: "u3", Role: schema.RoleEndUser, Name: "Phoebe", Email: "phoebe@example.com", Phone: "call the front desk"},
		// T1: requester's first comment, an agent's reply with seven
		// attachments, an unmapped agent's note, an end user's private
		// comment; solved, tagged, assigned to a mapped agent and a team.
		&schema.Ticket{ID: "t1", Subject: "Printer on fire", Status: "solved", RequesterID: "u1", AssigneeID: "a1", GroupID: "g1", Tags: []string{"vip"}, CreatedAt: at(0),
			CCIDs: []string{"u2", "a2", "ghost", "u1"}, CustomFields: json.RawMessage(`{"f1":"product_api","f2":4711,"f3":true,"f4":"2024-03-01","f9":"unknown field"}`)},
		&schema.Comment{ID: "c1", TicketID: "t1", AuthorID: "u1", Public: true, BodyText: "It burns", BodyHTML: "<p>It burns</p>", CreatedAt: at(0)},
		&schema.Comment{ID: "c2", TicketID: "t1", AuthorID: "a1", Public: true, BodyHTML: "<p>Use water</p>", CreatedAt: at(5)},
		&schema.Comment{ID: "c3", TicketID: "t1", AuthorID: "a2", Public: false, BodyHTML: "<p>internal</p>", CreatedAt: at(6)},
		&schema.Comment{ID: "c4", TicketID: "t1", AuthorID: "u2", Public: false, BodyHTML: "<p>cc'd aside</p>", CreatedAt: at(7)},
		// T2: its requester is not in the source.
		&schema.Ticket{ID: "t2", Subject: "Orphan", Status: "open", RequesterID: "ghost", CreatedAt: at(10)},
		&schema.Comment{ID: "c5", TicketID: "t2", AuthorID: "ghost", Public: true, BodyText: "hello?", CreatedAt: at(10)},
		// T3: opened by an agent on the requester's behalf.
		&schema.Ticket{ID: "t3", Subject: "Callback", Status: "pending", RequesterID: "u2", CreatedAt: at(20),
			CustomFields: json.RawMessage(`{"f1":null,"f2":"not a number","f3":false}`)},
		&schema.Comment{ID: "c6", TicketID: "t3", AuthorID: "a1", Public: true, BodyHTML: "<p>We called you</p>", CreatedAt: at(20)},
		&schema.Comment{ID: "c7", TicketID: "t3", AuthorID: "u2", Public: true, BodyHTML: "<p>Thanks</p>", CreatedAt: at(21)},
		// T4: outbound, requested by an agent: the agent becomes a contact.
		&schema.Ticket{ID: "t4", Subject: "Your renewal", Status: "open", RequesterID: "a1", CreatedAt: at(30)},
		&schema.Comment{ID: "c8", TicketID: "t4", AuthorID: "a1", Public: true, BodyText: "Time to renew", CreatedAt: at(30)},
	}
	// A knowledge base: a category, a section in it, a section whose
	// category is not in the source; articles in several locales.
	recs = append(recs,
		&schema.KBCategory{KBEntry: schema.KBEntry{ID: "kc1", Title: "General", BodyHTML: "<p>All about &amp; more</p>", Locale: "en-us"}},
		&schema.KBCategory{KBEntry: schema.KBEntry{ID: "kc2", ParentID: "kc1", Title: "Billing", Locale: "en-us"}},
		&schema.KBCategory{KBEntry: schema.KBEntry{ID: "kc3", ParentID: "kc-gone", Title: "Orphans", Locale: "en-us"}},
		&schema.KBArticle{KBEntry: schema.KBEntry{ID: "ka1", ParentID: "kc2", Title: "Invoices", BodyHTML: "<p>How to pay</p>", AuthorID: "a1", Locale: "en-us",
			Translations: json.RawMessage(`{"en-us":{"title":"Invoices","body":"<p>How to pay</p>"},"de":{"title":"Rechnungen","body":"<p>Zahlen</p>"},` +
				`"fr-ca":{"title":"Factures","body":"<p>Payer</p>"},"en-gb":{"title":"Invoices (UK)","body":"<p>Pay</p>"},"xx-yy":{"title":"?","body":"?"}}`)}},
		&schema.KBArticle{KBEntry: schema.KBEntry{ID: "ka2", Title: "Draft notes", BodyHTML: "<p>wip</p>", AuthorID: "a2", Locale: "en-us", Raw: json.RawMessage(`{"draft":true}`)}},
		&schema.KBArticle{KBEntry: schema.KBEntry{ID: "ka3", ParentID: "kc3", Title: "Lost", BodyHTML: "<p>x</p>", AuthorID: "a1", Locale: "en-us"}},
	)
	for i := range 7 {
		recs = append(recs, &schema.Attachment{ID: fmt.Sprintf("f%d", i), TicketID: "t1", CommentID: "c2", FileName: fmt.Sprintf("f%d.png", i),
			URL: fmt.Sprintf("https://files.example/f%d.png", i), Position: int64(i)})
	}
	return recs
}

// stageAll writes records into a fresh workspace the way an extract does.
func stageAll(t testing.TB, recs []schema.Record) *stage.Workspace {
	t.Helper()
	return stagetest.StageAll(t, recs)
}

// faults wraps the sandbox: fail answers the request with a status when it
// returns one.
type faults struct {
	next http.Handler
	fail func(r *http.Request) int
}

func (f *faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.fail != nil {
		if code := f.fail(r); code != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"type":"error.list","request_id":null,"errors":[{"code":"parameter_invalid","message":"injected failure"}]}`)
			return
		}
	}
	f.next.ServeHTTP(w, r)
}

type env struct {
	ws  *stage.Workspace
	sb  *sandbox.Server
	f   *faults
	url string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	sb := sandbox.New(sandbox.Options{Token: token})
	f := &faults{next: sb}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return &env{ws: stageAll(t, fixture()), sb: sb, f: f, url: srv.URL}
}

func (e *env) run(t *testing.T, tok string) (Result, error) {
	t.Helper()
	ic, err := intercom.New(intercom.Options{BaseURL: e.url, Token: tok, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return New(e.ws, ic, Options{TagMigrated: "migrated", RunID: 2, Concurrency: 4, PhoneCountry: "1", CustomAttributes: true}).Run(t.Context())
}

func outcome(t *testing.T, ws *stage.Workspace, entity, id string) (string, string) {
	t.Helper()
	var o, reason string
	err := ws.DB().QueryRowContext(t.Context(), `SELECT outcome, coalesce(reason, '') FROM ledger WHERE entity = ? AND source_id = ?`, entity, id).Scan(&o, &reason)
	if err != nil {
		t.Fatalf("outcome of %s %s: %v", entity, id, err)
	}
	return o, reason
}

func TestLoad(t *testing.T) {
	e := newEnv(t)
	// u2's email is in Intercom already: the loader must adopt that contact.
	pre, err := intercom.New(intercom.Options{BaseURL: e.url, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	existing, err := pre.CreateContact(t.Context(), intercom.ContactRequest{Role: intercom.RoleUser, Email: "ed@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	// An attribute of the same name and another type: its field is left out.
	if _, err := pre.CreateDataAttribute(t.Context(), intercom.DataAttributeRequest{Name: "account-number", Model: intercom.ModelContact, DataType: "integer"}); err != nil {
		t.Fatal(err)
	}

	res, err := e.run(t, token)
	if err != nil {
		t.Fatal(err)
	}
	checkAttributes(t, e, res)
	checkKnowledgeBase(t, e, res)
	if fmt.Sprint(res.InvisibleCompanies) != "[[o2 Ghost Corp]]" {
		t.Errorf("companies without contacts = %v, want o2 only", res.InvisibleCompanies)
	}
	if len(res.UnmappedAgents) != 1 || res.UnmappedAgents[0] != "nobody@acme.example" {
		t.Errorf("unmapped agents = %v", res.UnmappedAgents)
	}

	ids, _ := e.ws.IDMap(t.Context(), stage.EntityContacts)
	if ids["u2"] != existing.ID {
		t.Errorf("u2 mapped to %s, want the existing contact %s", ids["u2"], existing.ID)
	}
	tests := []struct{ entity, id, outcome, reason string }{
		{stage.EntityCompanies, "o1", stage.Migrated, ""},
		{stage.EntityContacts, "u1", stage.Migrated, ""},
		{stage.EntityContacts, "u2", stage.Migrated, ""},
		{stage.EntityTickets, "t1", stage.Migrated, ""},
		{stage.EntityTickets, "t2", stage.Failed, "requester ghost was not migrated"},
		{stage.EntityComments, "c5", stage.Failed, "requester ghost was not migrated"},
		{stage.EntityTickets, "t3", stage.Migrated, ""},
		{stage.EntityAttachments, "f6", stage.Migrated, ""},
		{stage.EntityContacts, "a1", stage.Migrated, ""},
		{stage.EntityTickets, "t4", stage.Migrated, ""},
	}
	for _, tt := range tests {
		o, reason := outcome(t, e.ws, tt.entity, tt.id)
		if o != tt.outcome || !strings.Contains(reason, tt.reason) {
			t.Errorf("%s %s: %s (%q), want %s (%q)", tt.entity, tt.id, o, reason, tt.outcome, tt.reason)
		}
	}

	snap := e.sb.Snapshot()
	convs, _ := e.ws.IDMap(t.Context(), stage.EntityTickets)
	c1, _ := snap.Conversation(convs["t1"])
	type part struct{ typ, author, body string }
	var got []part
	var attachCounts []int
	for _, p := range c1.Parts {
		if p.PartType == "comment" || p.PartType == "note" {
			got = append(got, part{p.PartType, p.Author.Type, p.RawBody})
			attachCounts = append(attachCounts, len(p.Attachments))
		}
	}
	want := []part{
		{"comment", "admin", "<p>Use water</p>"},
		{"comment", "admin", "<p>(attachments, continued)</p>"},
		{"note", "admin", "<p>internal</p>"},
		{"note", "admin", "<p><em>Comment by Existing Ed &lt;ed@example.com&gt;:</em></p><p>cc'd aside</p>"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("t1 parts:\n got %v\nwant %v", got, want)
	}
	if fmt.Sprint(attachCounts) != "[5 2 0 0]" {
		t.Errorf("attachments per part = %v, want [5 2 0 0]", attachCounts)
	}
	if c1.Source.RawBody != "It burns" || c1.CreatedAt != at(0).Unix() || c1.State != "closed" || c1.Title != "Printer on fire" {
		t.Errorf("t1 conversation = source %q at %d, state %s, title %q", c1.Source.RawBody, c1.CreatedAt, c1.State, c1.Title)
	}
	if c1.AdminAssigneeID == "" || c1.TeamAssigneeID == "" || len(c1.Tags) != 2 {
		t.Errorf("t1: admin %q, team %q, %d tags", c1.AdminAssigneeID, c1.TeamAssigneeID, len(c1.Tags))
	}
	c3, _ := snap.Conversation(convs["t3"])
	if !slices.Equal(c1.ContactIDs, []string{ids["u1"], ids["u2"]}) {
		t.Errorf("t1's participants = %v, want the requester and the CC'd end user %s", c1.ContactIDs, ids["u2"])
	}
	if c3.Source.RawBody != "Callback" || c3.CreatedAt != at(20).Unix() || len(c3.Parts) != 3 || c3.State != "snoozed" || c3.SnoozedUntil < time.Now().Add(6*24*time.Hour).Unix() {
		t.Errorf("t3 (opened by an agent, pending): source %q at %d, %d parts (2 comments and the snooze), %s until %d", c3.Source.RawBody, c3.CreatedAt, len(c3.Parts), c3.State, c3.SnoozedUntil)
	}
	c4, _ := snap.Conversation(convs["t4"])
	if agent, _ := snap.Contact(ids["a1"]); agent.Email != "ada@ferry-sandbox.example" || c4.Source.RawBody != "Time to renew" || c4.CreatedAt != at(30).Unix() {
		t.Errorf("t4 (outbound): contact %q, source %q at %d", agent.Email, c4.Source.RawBody, c4.CreatedAt)
	}
	if ids["a2"] != "" {
		t.Errorf("agent a2, who requested nothing, became contact %s", ids["a2"])
	}
	contact, _ := snap.Contact(ids["u1"])
	if len(contact.CompanyIDs) != 1 || contact.SignedUpAt != at(-500).Unix() || contact.Phone != "+14155550132" {
		t.Errorf("u1's contact: companies %v, signed up %d, phone %q", contact.CompanyIDs, contact.SignedUpAt, contact.Phone)
	}
	if c3, ok := snap.Contact(ids["u3"]); !ok || c3.Phone != "" || res.PhonesLeftOut != 1 {
		t.Errorf("u3 (a phone that is no number): contact %v, phone %q, %d phones left out", ok, c3.Phone, res.PhonesLeftOut)
	}

	// A second run sends nothing that creates or changes.
	before := e.sb.Stats().Requests
	if _, err := e.run(t, token); err != nil {
		t.Fatal(err)
	}
	// Preflight reads /me, /admins, /teams and the three lists of
	// attributes; t2 fails again on its missing requester before any call.
	if n := e.sb.Stats().Requests - before; n != 6 {
		t.Errorf("the second run made %d requests, want the 6 reads of preflight", n)
	}
}

func TestLoadResumesATicketAtItsNextComment(t *testing.T) {
	e := newEnv(t)
	// The unmapped agent's note (the third part of t1) fails once.
	var notes atomic.Int32
	e.f.fail = func(r *http.Request) int {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/reply") && notes.Add(1) == 3 {
			return http.StatusBadRequest
		}
		return 0
	}
	t.Cleanup(func() { e.f.fail = nil })
	ic, _ := intercom.New(intercom.Options{BaseURL: e.url, Token: token, MaxRetries: -1})
	// One worker, so the failing reply is t1's third.
	if _, err := New(e.ws, ic, Options{RunID: 2, Concurrency: 1}).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if o, reason := outcome(t, e.ws, stage.EntityTickets, "t1"); o != stage.Failed || !strings.Contains(reason, "comment c3") || !strings.Contains(reason, "injected failure") {
		t.Fatalf("t1: %s %q, want failed at comment c3", o, reason)
	}
	if o, reason := outcome(t, e.ws, stage.EntityComments, "c4"); o != stage.Failed || !strings.Contains(reason, "earlier comment") {
		t.Errorf("c4: %s %q", o, reason)
	}
	if o, _ := outcome(t, e.ws, stage.EntityComments, "c2"); o != stage.Migrated {
		t.Errorf("c2: %s, want migrated before the failure", o)
	}

	e.f.fail = nil
	if _, err := e.run(t, token); err != nil {
		t.Fatal(err)
	}
	if o, _ := outcome(t, e.ws, stage.EntityTickets, "t1"); o != stage.Migrated {
		t.Fatalf("t1 after the rerun: %s", o)
	}
	convs, _ := e.ws.IDMap(t.Context(), stage.EntityTickets)
	conv, _ := e.sb.Snapshot().Conversation(convs["t1"])
	var bodies []string
	for _, p := range conv.Parts {
		if p.PartType == "comment" || p.PartType == "note" {
			bodies = append(bodies, p.RawBody)
		}
	}
	if len(bodies) != 4 || bodies[0] != "<p>Use water</p>" || bodies[2] != "<p>internal</p>" || !strings.Contains(bodies[3], "aside") {
		t.Errorf("t1 after resuming: %q, want each comment once, in order", bodies)
	}
	if n := len(e.sb.Snapshot().Conversations); n != 3 {
		t.Errorf("%d conversations, want 3 (t1, t3 and t4): the rerun must reuse t1's", n)
	}
}

func TestLoadStopsOnABadToken(t *testing.T) {
	e := newEnv(t)
	_, err := e.run(t, "wrong-token")
	if err == nil || intercom.StatusCode(err) != http.StatusUnauthorized {
		t.Fatalf("err = %v, want a 401", err)
	}
	var n int
	e.ws.DB().QueryRowContext(context.Background(), `SELECT count(*) FROM ledger`).Scan(&n)
	if n != 0 {
		t.Errorf("a bad token recorded %d outcomes", n)
	}
}

func TestLoadRefusesAnUnknownDefaultAdmin(t *testing.T) {
	e := newEnv(t)
	ic, _ := intercom.New(intercom.Options{BaseURL: e.url, Token: token})
	_, err := New(e.ws, ic, Options{DefaultAdminEmail: "boss@nowhere.example"}).Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "boss@nowhere.example is not an admin") {
		t.Errorf("err = %v", err)
	}
}

// lostAnswers applies a share of the creates (conversations, replies,
// state changes) and then drops the connection without an answer, as a
// network failure after the server acted does.
type lostAnswers struct {
	next  http.Handler
	every int64
	// paths, when set, are the creates (by path prefix) that lose answers
	// instead of the conversations' and the knowledge base's.
	paths []string
	n     atomic.Int64
	lost  atomic.Int64
}

func (f *lostAnswers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	create := r.Method == http.MethodPost && (r.URL.Path == "/conversations" || strings.HasSuffix(r.URL.Path, "/reply") || strings.HasSuffix(r.URL.Path, "/parts") ||
		r.URL.Path == "/help_center/collections" || r.URL.Path == "/articles")
	if f.paths != nil {
		create = r.Method == http.MethodPost && slices.ContainsFunc(f.paths, func(p string) bool { return strings.HasPrefix(r.URL.Path, p) }) && !strings.HasSuffix(r.URL.Path, "/search")
	}
	if !create || f.n.Add(1)%f.every != 0 {
		f.next.ServeHTTP(w, r)
		return
	}
	f.next.ServeHTTP(httptest.NewRecorder(), r)
	f.lost.Add(1)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// partsOf lists a conversation's comment and note parts as type|body.
func partsOf(snap sandbox.Snapshot, convID string) []string {
	c, _ := snap.Conversation(convID)
	var out []string
	for _, p := range c.Parts {
		if p.PartType == "comment" || p.PartType == "note" {
			out = append(out, p.PartType+"|"+p.RawBody)
		}
	}
	return out
}

// wantParts is what TestLoad's fixture becomes, per ticket.
var wantParts = map[string]int{"t1": 4, "t3": 2, "t4": 0}

func checkExact(t *testing.T, e *env) {
	t.Helper()
	snap := e.sb.Snapshot()
	convs, _ := e.ws.IDMap(t.Context(), stage.EntityTickets)
	if len(snap.Conversations) != len(wantParts) {
		t.Errorf("the sandbox has %d conversations, want %d", len(snap.Conversations), len(wantParts))
	}
	for id, n := range wantParts {
		if o, reason := outcome(t, e.ws, stage.EntityTickets, id); o != stage.Migrated {
			t.Errorf("%s: %s (%s)", id, o, reason)
		}
		got := partsOf(snap, convs[id])
		if len(got) != n {
			t.Errorf("%s has %d parts, want %d: %q", id, len(got), n, got)
		}
		c, _ := snap.Conversation(convs[id])
		closes := 0
		for _, p := range c.Parts {
			if p.PartType == "close" {
				closes++
			}
		}
		if id == "t1" && (closes != 1 || c.State != "closed") {
			t.Errorf("t1: %d close parts, state %s, want closed once", closes, c.State)
		}
	}
	if len(snap.Collections) != 2 || len(snap.Articles) != 2 {
		t.Errorf("the sandbox has %d collections and %d articles, want 2 and 2", len(snap.Collections), len(snap.Articles))
	}
	var open int
	e.ws.DB().QueryRowContext(t.Context(), `SELECT count(*) FROM intents`).Scan(&open)
	if open != 0 {
		t.Errorf("%d intents left after every ticket migrated", open)
	}
}

// A create whose answer is lost is read back, not sent again blindly: every
// ticket ends with one conversation and each part once.
func TestLoadLostAnswers(t *testing.T) {
	for _, every := range []int64{2, 3} {
		t.Run(fmt.Sprint("every ", every), func(t *testing.T) {
			sb := sandbox.New(sandbox.Options{Token: token})
			f := &lostAnswers{next: sb, every: every}
			srv := httptest.NewServer(f)
			t.Cleanup(srv.Close)
			e := &env{ws: stageAll(t, fixture()), sb: sb, url: srv.URL}
			ic, _ := intercom.New(intercom.Options{BaseURL: e.url, Token: token})
			if _, err := New(e.ws, ic, Options{RunID: 2, Concurrency: 2}).Run(t.Context()); err != nil {
				t.Fatal(err)
			}
			if f.lost.Load() == 0 {
				t.Fatal("no answer was lost")
			}
			t.Logf("%d answers lost", f.lost.Load())
			checkExact(t, e)
		})
	}
}

// A load that stops between a create and its record (a crash, a kill)
// resumes without making anything twice: the rerun reads back what the
// intents say was under way.
func TestLoadResumesAfterAStopMidCreate(t *testing.T) {
	// Every create of the fixture's load, the knowledge base's last four.
	for _, stopAt := range []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17} {
		t.Run(fmt.Sprint("create ", stopAt), func(t *testing.T) {
			e, ctx := stopAtCreate(t, stopAt, func(r *http.Request) bool {
				return r.URL.Path == "/conversations" || strings.HasSuffix(r.URL.Path, "/reply") || strings.HasSuffix(r.URL.Path, "/parts") ||
					r.URL.Path == "/help_center/collections" || r.URL.Path == "/articles"
			})
			ic, _ := intercom.New(intercom.Options{BaseURL: e.url, Token: token})
			if _, err := New(e.ws, ic, Options{RunID: 2, Concurrency: 1}).Run(ctx); err == nil {
				t.Fatal("the stopped load did not stop")
			}
			if _, err := New(e.ws, ic, Options{RunID: 3, Concurrency: 1}).Run(t.Context()); err != nil {
				t.Fatal(err)
			}
			checkExact(t, e)
		})
	}
}

// The plan's estimate of the calls is what the load then sends, kind by
// kind, and its teammate mapping is the load's.
func TestEstimateCallsIsWhatTheLoadSends(t *testing.T) {
	e := newEnv(t)
	ic, err := intercom.New(intercom.Options{BaseURL: e.url, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	tm, err := MapTeammates(t.Context(), ic, e.ws.DB(), "")
	if err != nil {
		t.Fatal(err)
	}
	admins := map[string]string{}
	for _, a := range tm.Agents {
		admins[a.ID] = a.Admin
	}
	if admins["a1"] != "ada@ferry-sandbox.example" || admins["a2"] != "" || len(tm.Groups) != 1 || tm.Groups[0].Team != "Support" {
		t.Errorf("teammates: agents %v, groups %+v", admins, tm.Groups)
	}
	est, err := EstimateCalls(t.Context(), e.ws.DB(), stage.Selection{}, tm, EstimateOptions{TagMigrated: "migrated", CustomAttributes: true, Client: ic})
	if err != nil {
		t.Fatal(err)
	}
	before := e.sb.Stats()
	res, err := e.run(t, token)
	if err != nil {
		t.Fatal(err)
	}
	after := e.sb.Stats()
	sent := func(ep string) int64 { return after.Endpoints[ep].Requests - before.Endpoints[ep].Requests }
	for _, c := range []struct {
		name     string
		est, got int64
	}{
		{"conversations", est.Conversations, sent("POST /conversations")},
		{"parts", est.Parts, sent("POST /conversations/{conversation_id}/reply")},
		{"participants", est.Participants, sent("POST /conversations/{conversation_id}/customers")},
		{"tags", est.Tags, sent("POST /conversations/{conversation_id}/tags")},
		{"tag creates", est.TagCreates, sent("POST /tags")},
		{"titles and attributes", est.Titles, sent("PUT /conversations/{conversation_id}")},
		{"attributes", est.Attributes, sent("GET /data_attributes") + sent("POST /data_attributes") + sent("GET /conversations/attributes") + sent("POST /conversations/attributes")},
		{"assignments and states", est.Assignments + est.States, sent("POST /conversations/{conversation_id}/parts")},
		{"contacts", est.Contacts, sent("POST /contacts")},
		{"company links", est.CompanyLinks, sent("POST /contacts/{contact_id}/companies")},
		{"companies", est.Companies, sent("POST /companies")},
		{"collections", est.Collections, sent("POST /help_center/collections")},
		{"articles", est.Articles, sent("POST /articles")},
		{"all", est.Total(), after.Requests - before.Requests},
	} {
		if c.est != c.got {
			t.Errorf("%s: estimated %d, the load sent %d", c.name, c.est, c.got)
		}
	}
	if est.Unloadable != 1 || len(res.UnmappedGroups) != 0 {
		t.Errorf("unloadable %d (want t2, whose requester is not in the source)", est.Unloadable)
	}
	if d := est.Duration(10, 10*time.Second); d != time.Duration(est.Total())*time.Second {
		t.Errorf("%d calls at 10 per 10 s: %v", est.Total(), d)
	}
}

// checkAttributes checks TestLoad's custom attributes: created with the
// right types, except the one that existed with another, and the values
// converted by type.
func checkAttributes(t *testing.T, e *env, res Result) {
	t.Helper()
	snap := e.sb.Snapshot()
	types := map[string]string{}
	for _, a := range snap.Attributes {
		types[a.Model+"."+a.Name] = a.DataType
	}
	want := map[string]string{
		"conversation.Product": "string", "conversation.Order number": "integer", "conversation.VIP customer": "boolean",
		"conversation.Follow-up date": "datetime", "contact.plan": "string", "contact.seats": "integer",
		"contact.account-number": "integer", // made before the load, with another type
		"company.tier":           "string",
	}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("attributes:\n got %v\nwant %v", types, want)
	}
	if len(res.Attributes.Created) != 7 || len(res.Attributes.Skipped) != 1 || !strings.Contains(res.Attributes.Skipped[0], `"account-number" is of type integer`) {
		t.Errorf("attributes created %v, skipped %v", res.Attributes.Created, res.Attributes.Skipped)
	}
	convs, _ := e.ws.IDMap(t.Context(), stage.EntityTickets)
	c1, _ := snap.Conversation(convs["t1"])
	wantAttrs := map[string]any{"Product": "API", "Order number": int64(4711), "VIP customer": true, "Follow-up date": time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).Unix()}
	if fmt.Sprint(c1.CustomAttributes) != fmt.Sprint(wantAttrs) {
		t.Errorf("t1's attributes = %v, want %v", c1.CustomAttributes, wantAttrs)
	}
	c3, _ := snap.Conversation(convs["t3"])
	if fmt.Sprint(c3.CustomAttributes) != fmt.Sprint(map[string]any{"VIP customer": false}) {
		t.Errorf("t3's attributes = %v, want the checkbox only (the order number is no number)", c3.CustomAttributes)
	}
	contacts, _ := e.ws.IDMap(t.Context(), stage.EntityContacts)
	u1, _ := snap.Contact(contacts["u1"])
	if fmt.Sprint(u1.CustomAttributes) != fmt.Sprint(map[string]any{"plan": "business", "seats": int64(12)}) {
		t.Errorf("u1's attributes = %v", u1.CustomAttributes)
	}
	for _, co := range snap.Companies {
		want := map[string]any{}
		if co.CompanyID == "o1" {
			want["tier"] = "gold"
		}
		if fmt.Sprint(co.CustomAttributes) != fmt.Sprint(want) {
			t.Errorf("company %s's attributes = %v, want %v", co.CompanyID, co.CustomAttributes, want)
		}
	}
}

// checkKnowledgeBase checks TestLoad's knowledge base: collections nested
// parents first, articles in their section's collection with their other
// locales translated, authors mapped, and what cannot be kept reported.
func checkKnowledgeBase(t *testing.T, e *env, res Result) {
	t.Helper()
	snap := e.sb.Snapshot()
	cols, _ := e.ws.IDMap(t.Context(), stage.EntityCollections)
	if len(snap.Collections) != 2 {
		t.Fatalf("collections = %+v, want General and Billing", snap.Collections)
	}
	general, billing := snap.Collections[0], snap.Collections[1]
	if general.Name != "General" || general.ParentID != "" || general.Description != "All about & more" || billing.ParentID != general.ID || cols["kc2"] != billing.ID {
		t.Errorf("collections = %+v", snap.Collections)
	}
	if o, reason := outcome(t, e.ws, stage.EntityCollections, "kc3"); o != stage.Failed || !strings.Contains(reason, "parent kc-gone") {
		t.Errorf("kc3: %s %q", o, reason)
	}
	arts, _ := e.ws.IDMap(t.Context(), stage.EntityArticles)
	byID := map[string]sandbox.Article{}
	for _, a := range snap.Articles {
		byID[a.ID] = a
	}
	ada := sandbox.DefaultAdmins()[0].ID // a1's admin, and the token's own
	a1 := byID[arts["ka1"]]
	var locales []string
	for l := range a1.Translated {
		locales = append(locales, l)
	}
	slices.Sort(locales)
	if a1.Title != "Invoices" || a1.ParentID != billing.ID || a1.State != "published" || a1.AuthorID != ada || fmt.Sprint(locales) != "[de fr]" || a1.Translated["de"]["title"] != "Rechnungen" {
		t.Errorf("ka1 = %+v", a1)
	}
	if a2 := byID[arts["ka2"]]; a2.State != "draft" || a2.ParentID != "" || a2.AuthorID != ada {
		t.Errorf("ka2 (a draft by an unmapped agent, standing alone) = %+v", a2)
	}
	if o, reason := outcome(t, e.ws, stage.EntityArticles, "ka3"); o != stage.Failed || !strings.Contains(reason, "section kc3 was not migrated") {
		t.Errorf("ka3: %s %q", o, reason)
	}
	if fmt.Sprint(res.KnowledgeBase.LocalesLeftOut) != "[ka1: en-gb ka1: xx-yy]" || res.KnowledgeBase.DatesNotKept != 4 {
		t.Errorf("knowledge base result = %+v", res.KnowledgeBase)
	}
}

// ticketParts lists an Intercom ticket's comment and note parts.
func ticketParts(tk sandbox.Ticket) []string {
	var out []string
	for _, p := range tk.Parts {
		if p.PartType == "comment" || p.PartType == "note" {
			out = append(out, p.PartType+"|"+p.RawBody)
		}
	}
	return out
}

// With a ticket type, tickets load as Intercom tickets: title, description,
// attributes and assignment on create, comments as parts in order, tags and
// state after; exactly once even when answers are lost or the load stops.
func TestLoadAsTickets(t *testing.T) {
	wantParts := map[string]int{"t1": 4, "t3": 2, "t4": 0}
	check := func(t *testing.T, e *env) {
		t.Helper()
		snap := e.sb.Snapshot()
		ids, _ := e.ws.IDMap(t.Context(), stage.EntityTickets)
		if len(snap.Tickets) != 3 || len(snap.Conversations) != 0 {
			t.Fatalf("%d tickets and %d conversations, want 3 tickets", len(snap.Tickets), len(snap.Conversations))
		}
		byID := map[string]sandbox.Ticket{}
		for _, tk := range snap.Tickets {
			byID[tk.ID] = tk
		}
		for id, n := range wantParts {
			if got := ticketParts(byID[ids[id]]); len(got) != n {
				t.Errorf("%s: %d parts, want %d: %q", id, len(got), n, got)
			}
		}
		var open int
		e.ws.DB().QueryRowContext(t.Context(), `SELECT count(*) FROM intents`).Scan(&open)
		if open != 0 {
			t.Errorf("%d intents left", open)
		}
	}
	run := func(t *testing.T, e *env, ctx context.Context, runID int64) (Result, error) {
		ic, _ := intercom.New(intercom.Options{BaseURL: e.url, Token: token})
		return New(e.ws, ic, Options{TagMigrated: "migrated", RunID: runID, Concurrency: 2, CustomAttributes: true, TicketType: "Support request"}).Run(ctx)
	}

	t.Run("content", func(t *testing.T) {
		e := newEnv(t)
		ic, _ := intercom.New(intercom.Options{BaseURL: e.url, Token: token})
		tm, err := MapTeammates(t.Context(), ic, e.ws.DB(), "")
		if err != nil {
			t.Fatal(err)
		}
		est, err := EstimateCalls(t.Context(), e.ws.DB(), stage.Selection{}, tm,
			EstimateOptions{TagMigrated: "migrated", CustomAttributes: true, Client: ic, TicketType: "Support request"})
		if err != nil {
			t.Fatal(err)
		}
		before := e.sb.Stats().Requests
		res, err := run(t, e, t.Context(), 2)
		if err != nil {
			t.Fatal(err)
		}
		if sent := e.sb.Stats().Requests - before; sent != est.Total() {
			t.Errorf("the plan estimated %d calls (%+v), the load sent %d", est.Total(), est, sent)
		}
		check(t, e)
		snap := e.sb.Snapshot()
		ids, _ := e.ws.IDMap(t.Context(), stage.EntityTickets)
		contacts, _ := e.ws.IDMap(t.Context(), stage.EntityContacts)
		var t1, t3 sandbox.Ticket
		for _, tk := range snap.Tickets {
			switch tk.ID {
			case ids["t1"]:
				t1 = tk
			case ids["t3"]:
				t3 = tk
			}
		}
		if t1.Attributes["_default_title_"] != "Printer on fire" || t1.Attributes["_default_description_"] != "It burns" || fmt.Sprint(t1.Attributes["Order number"]) != "4711" ||
			t1.CreatedAt != at(0).Unix() || t1.AdminAssigneeID == "" || t1.TeamAssigneeID == "" || t1.Open || t1.State != "resolved" || len(t1.Tags) != 2 ||
			!slices.Equal(t1.ContactIDs, []string{contacts["u1"]}) || !t1.SkipNotifications {
			t.Errorf("t1 = %+v", t1)
		}
		if got := ticketParts(t1); got[0] != "comment|<p>Use water</p>" || !strings.Contains(got[3], "aside") {
			t.Errorf("t1 parts = %q", got)
		}
		if t3.Attributes["_default_description_"] != "Callback" || t3.SnoozedUntil == 0 || !t3.Open {
			t.Errorf("t3 (opened by an agent, pending) = %+v", t3)
		}
		if res.CCsLeftOut != 1 {
			t.Errorf("CCs left out = %d, want t1's u2", res.CCsLeftOut)
		}
		types := snap.TicketTypes
		if len(types) != 1 || types[0].Name != "Support request" || len(types[0].Attributes) != 6 {
			t.Errorf("ticket types = %+v", types)
		}
		for _, a := range snap.Attributes {
			if a.Model == "conversation" {
				t.Errorf("conversation attribute %q made for tickets", a.Name)
			}
		}
		// A second run sends nothing that creates or changes.
		beforeAgain := e.sb.Stats()
		if _, err := run(t, e, t.Context(), 3); err != nil {
			t.Fatal(err)
		}
		for ep, st := range e.sb.Stats().Endpoints {
			if !strings.HasPrefix(ep, "GET ") && st.Requests != beforeAgain.Endpoints[ep].Requests {
				t.Errorf("the second run sent %s", ep)
			}
		}
	})
	t.Run("lost answers", func(t *testing.T) {
		sb := sandbox.New(sandbox.Options{Token: token})
		f := &lostAnswers{next: sb, every: 2, paths: []string{"/tickets"}}
		srv := httptest.NewServer(f)
		t.Cleanup(srv.Close)
		e := &env{ws: stageAll(t, fixture()), sb: sb, url: srv.URL}
		if _, err := run(t, e, t.Context(), 2); err != nil {
			t.Fatal(err)
		}
		if f.lost.Load() == 0 {
			t.Fatal("no answer was lost")
		}
		check(t, e)
	})
	for _, stopAt := range []int64{1, 2, 3, 4, 5, 6} {
		t.Run(fmt.Sprint("stop at create ", stopAt), func(t *testing.T) {
			e, ctx := stopAtCreate(t, stopAt, func(r *http.Request) bool {
				return r.URL.Path == "/tickets" || strings.HasSuffix(r.URL.Path, "/reply")
			})
			if _, err := run(t, e, ctx, 2); err == nil {
				t.Fatal("the stopped load did not stop")
			}
			if _, err := run(t, e, t.Context(), 3); err != nil {
				t.Fatal(err)
			}
			check(t, e)
		})
	}
}

// stopAtCreate serves a sandbox that, at the stopAt-th POST create, acts
// on it and then stops the load (cancels the context it returns) before
// the answer arrives: a crash or kill between a create and its record.
func stopAtCreate(t *testing.T, stopAt int64, isCreate func(*http.Request) bool) (*env, context.Context) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{Token: token})
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && isCreate(r) && n.Add(1) == stopAt {
			// Intercom acts; ferry stops before it hears back.
			sb.ServeHTTP(httptest.NewRecorder(), r)
			cancel()
			<-r.Context().Done()
			return
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &env{ws: stageAll(t, fixture()), sb: sb, url: srv.URL}, ctx
}
