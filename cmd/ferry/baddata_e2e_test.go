package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/intercom/sandbox"
	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
)

// longSuite says whether the long suite runs (make test-long): full-size
// bad data, where make test runs a representative part of it.
func longSuite() bool { return os.Getenv("FERRY_LONG") != "" }

// TestMigrateBadData migrates a help desk full of bad data
// (zendesktest.AddHostile: invalid and duplicate emails, invalid phones,
// text that is not UTF-8, big bodies, scripts and inline images, agents as
// requesters, comments of unknown authors and tickets, a long ticket, many
// and missing files, dates at the epoch and in the future, empty subjects,
// right-to-left and emoji text) and checks that every record of every
// entity ends migrated, failed or skipped, the failed and skipped ones with
// the reason their kind calls for, in words; that for every entity
// available = migrated + failed + skipped; that what Intercom accepts is
// in the sandbox as the source has it, and verify finds nothing that
// differs; and that a second migrate changes nothing. make test runs a
// 505-comment ticket (past the 500 parts Intercom shows) and 512 KiB
// bodies; FERRY_LONG=1 the full 5,000 comments and 5 MB.
func TestMigrateBadData(t *testing.T) {
	opts := zendesktest.HostileOptions{Seed: 17, LongComments: 505, BigBody: 512 << 10}
	if longSuite() {
		opts.LongComments, opts.BigBody = 0, 0 // the full sizes
	}
	hd := zendesktest.Generate(zendesktest.GenerateOptions{Seed: 17, Tickets: 12, EndUsers: 10, Organizations: 3})
	bad := zendesktest.AddHostile(hd, opts)
	w := newWorldOf(t, hd)

	start := time.Now()
	out, errOut, code := w.ferry("migrate", "-w", w.ws)
	t.Logf("migrate took %s; bad records by kind: %v", time.Since(start).Round(time.Millisecond), bad.Count())
	if code != 0 || !strings.Contains(out, "records failed; see why with") {
		t.Fatalf("migrate: exit %d (want 0, saying records failed)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// Phones that are no numbers are left out of their contacts, and the
	// load says so.
	phones := 0
	for _, r := range bad.Of(zendesktest.BadInvalidPhone) {
		if r.Stream == "users" {
			phones++
			if !strings.Contains(errOut, fmt.Sprintf("phone number left out of the contact: not E.164\" user=%d reason=", r.ID)) {
				t.Errorf("the log does not say why user %d's phone %q was left out", r.ID, deref(hd.User(r.ID).Phone))
			}
		}
	}
	if want := fmt.Sprintf("load: %d contacts were created without their phone number", phones); !strings.Contains(errOut, want) {
		t.Errorf("migrate does not say %q:\n%s", want, errOut)
	}

	// Every record staged has an outcome, and the report adds up.
	if missing := w.queryRows(`
SELECT entity, source_id FROM (
  SELECT 'companies' AS entity, id AS source_id FROM organizations
  UNION ALL SELECT 'contacts', id FROM users WHERE role = 'end_user' OR id IN (SELECT requester_id FROM tickets)
  UNION ALL SELECT 'tickets', id FROM tickets
  UNION ALL SELECT 'comments', id FROM comments
  UNION ALL SELECT 'attachments', id FROM attachments)
WHERE (entity, source_id) NOT IN (SELECT (entity, source_id) FROM ledger)`); len(missing) > 0 {
		t.Errorf("%d staged records have no outcome: %v", len(missing), missing)
	}
	endUsers := 0
	for _, u := range hd.Users {
		if !u.IsAgent() {
			endUsers++
		}
	}
	unlisted := 0
	for _, tk := range hd.Unlisted {
		unlisted += len(tk.Comments)
	}
	available := map[string]int{
		"companies": len(hd.Organizations), "contacts": endUsers + len(bad.Of(zendesktest.BadAgentRequester)),
		"tickets": len(hd.Tickets), "comments": hd.CommentCount() + unlisted, "attachments": hd.AttachmentCount(),
	}
	rep := w.report()
	for entity, n := range available {
		got := rep[entity]
		if got.Available != n || got.Migrated+got.Failed+got.Skipped != got.Available {
			t.Errorf("report %s = %+v: want %d available, each migrated, failed or skipped", entity, got, n)
		}
	}

	// The failed and skipped records are exactly the bad ones that call
	// for it, each with its reason.
	ledger := map[string]ledgerRow{}
	for _, r := range w.queryRows(`SELECT entity, source_id, outcome, coalesce(reason, '') AS reason, coalesce(intercom_id, '') AS intercom_id FROM ledger`) {
		ledger[r["entity"]+" "+r["source_id"]] = ledgerRow{r["outcome"], r["reason"], r["intercom_id"]}
	}
	want := map[string]ledgerRow{} // the records that do not end migrated
	expect := func(entity string, id int64, outcome string, reason ...string) {
		want[entity+" "+fmt.Sprint(id)] = ledgerRow{outcome: outcome, reason: strings.Join(reason, "\x00")}
	}
	for _, r := range bad.Of(zendesktest.BadInvalidEmail) {
		switch r.Stream {
		case "users":
			expect("contacts", r.ID, "failed", fmt.Sprintf("its email %q is not a valid email address, which Intercom refuses", *hd.User(r.ID).Email))
		case "tickets":
			tk := hd.Ticket(r.ID)
			because := fmt.Sprintf("its requester %d was not migrated as a contact (see contacts, %s)", tk.RequesterID, *hd.User(tk.RequesterID).Email)
			expect("tickets", tk.ID, "failed", because)
			expect("comments", tk.Comments[0].ID, "failed", because)
			for _, c := range tk.Comments[1:] {
				expect("comments", c.ID, "failed", fmt.Sprintf("not loaded: an earlier comment of ticket %d failed", tk.ID))
			}
		}
	}
	keeper := map[int64]*zendesktest.User{} // duplicate → the user whose email it has
	for _, r := range bad.Of(zendesktest.BadDuplicateEmail) {
		if r.Stream != "users" {
			continue
		}
		u := hd.User(r.ID)
		for i := range hd.Users { // the earliest user of the email keeps it
			o := &hd.Users[i]
			if o.ID != u.ID && strings.EqualFold(deref(o.Email), deref(u.Email)) && o.CreatedAt.Before(u.CreatedAt) &&
				(keeper[u.ID] == nil || o.CreatedAt.Before(keeper[u.ID].CreatedAt)) {
				keeper[u.ID] = o
			}
		}
		k := keeper[u.ID]
		if k == nil {
			t.Fatalf("duplicate %d: no earlier user has its email", u.ID)
		}
		expect("contacts", u.ID, "skipped", fmt.Sprintf("same email as user %d (%s): Intercom keeps one contact per email", k.ID, *u.Email))
	}
	for _, r := range bad.Of(zendesktest.BadUnknownTicket) {
		expect("comments", r.ID, "skipped", fmt.Sprintf("its ticket %d is not in the source", r.TicketID), "so it has no conversation to go into")
	}
	for _, r := range bad.Of(zendesktest.BadMissingFile) {
		expect("attachments", r.ID, "failed", "its file is gone from the source (GET "+w.zendesk.URL+"/attachments/token/", "answered 404 Not Found), so it was left out of comment")
	}
	for key, row := range ledger {
		if row.outcome == "migrated" {
			continue
		}
		if !humane(row.reason) {
			t.Errorf("%s %s: the reason is not one a person reads: %q", key, row.outcome, row.reason)
		}
		e, ok := want[key]
		if !ok {
			t.Errorf("%s %s unexpectedly: %s", key, row.outcome, row.reason)
			continue
		}
		if row.outcome != e.outcome {
			t.Errorf("%s %s, want %s: %s", key, row.outcome, e.outcome, row.reason)
		}
		for _, part := range strings.Split(e.reason, "\x00") {
			if !strings.Contains(row.reason, part) {
				t.Errorf("%s: reason %q lacks %q", key, row.reason, part)
			}
		}
	}
	for key, e := range want {
		if _, ok := ledger[key]; !ok {
			t.Errorf("%s: no outcome, want %s", key, e.outcome)
		} else if ledger[key].outcome == "migrated" {
			t.Errorf("%s migrated, want %s", key, e.outcome)
		}
	}

	// What Intercom accepts is there as the source has it.
	w.checkBadData(t, bad, keeper, opts)

	// Verify (which migrate ran) finds nothing that differs, and says so
	// again when run alone.
	if v := w.reportVerify(); v.Checked == 0 || v.Mismatches != 0 {
		t.Errorf("verify after migrate: %+v, want records checked and no mismatch:\n%s", v,
			w.mustFerry("query", "-w", w.ws, "SELECT entity, source_id, fact, reason FROM audit_mismatches"))
	}
	if out, errOut, code := w.ferry("verify", "-w", w.ws); code != 0 {
		t.Errorf("ferry verify: exit %d\n%s\n%s", code, out, errOut)
	}

	// A second migrate creates nothing and leaves every outcome as it was.
	before := w.ic.Snapshot()
	start = time.Now()
	w.mustFerry("migrate", "-w", w.ws)
	t.Logf("the second migrate took %s", time.Since(start).Round(time.Millisecond))
	after := w.ic.Snapshot()
	if len(after.Contacts) != len(before.Contacts) || len(after.Conversations) != len(before.Conversations) || len(after.Companies) != len(before.Companies) {
		t.Errorf("the second migrate changed Intercom: %d contacts, %d conversations, %d companies; then %d, %d, %d",
			len(before.Contacts), len(before.Conversations), len(before.Companies), len(after.Contacts), len(after.Conversations), len(after.Companies))
	}
	for i := range before.Conversations {
		if len(after.Conversations[i].Parts) != len(before.Conversations[i].Parts) {
			t.Errorf("the second migrate changed conversation %s: %d parts, then %d", before.Conversations[i].ID, len(before.Conversations[i].Parts), len(after.Conversations[i].Parts))
		}
	}
	if again := w.report(); fmt.Sprint(again) != fmt.Sprint(rep) {
		t.Errorf("the second migrate changed the report:\n%v\nthen\n%v", rep, again)
	}
}

type ledgerRow struct{ outcome, reason, intercomID string }

// humane says whether a reason reads as words for a person: not empty, and
// none of the marks of a Go value or error dumped as it is.
func humane(reason string) bool {
	if strings.TrimSpace(reason) == "" {
		return false
	}
	for _, dump := range []string{"%!", "<nil>", "&{", "map[", "0x", "goroutine", "panic", "runtime error", "rpc error", "intercom: POST", "\\u", "\n"} {
		if strings.Contains(reason, dump) {
			return false
		}
	}
	return true
}

// queryRows runs a query through ferry query and returns its rows, every
// value as text.
func (w *world) queryRows(sql string) []map[string]string {
	w.t.Helper()
	out := w.mustFerry("query", "-w", w.ws, "--format", "json", sql)
	var rows []map[string]string
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var raw map[string]any
		if err := dec.Decode(&raw); err != nil {
			w.t.Fatalf("%s: %v", sql, err)
		}
		row := map[string]string{}
		for k, v := range raw {
			if v != nil {
				row[k] = fmt.Sprint(v)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

type verifyCounts struct{ Checked, Mismatches int }

// reportVerify is the verify part of ferry report --json.
func (w *world) reportVerify() verifyCounts {
	w.t.Helper()
	var rep struct {
		Verify verifyCounts `json:"verify"`
	}
	if err := json.Unmarshal([]byte(w.mustFerry("report", "-w", w.ws, "--json")), &rep); err != nil {
		w.t.Fatal(err)
	}
	return rep.Verify
}

// checkBadData checks in the sandbox that the bad records Intercom accepts
// are there as the source has them.
func (w *world) checkBadData(t *testing.T, bad zendesktest.Hostile, keeper map[int64]*zendesktest.User, opts zendesktest.HostileOptions) {
	t.Helper()
	hd := w.hd
	snap := w.ic.Snapshot()
	contacts := map[string]sandbox.Contact{} // by external id: the source user
	for _, c := range snap.Contacts {
		contacts[c.ExternalID] = c
	}
	convs := w.idMap("tickets")
	conv := func(ticketID int64) sandbox.Conversation {
		t.Helper()
		c, ok := snap.Conversation(convs[id(ticketID)])
		if !ok {
			t.Fatalf("ticket %d has no conversation", ticketID)
		}
		return c
	}
	// comments are a conversation's comment and note parts.
	comments := func(c sandbox.Conversation) []sandbox.Part {
		var out []sandbox.Part
		for _, p := range c.Parts {
			if p.PartType == "comment" || p.PartType == "note" || p.PartType == "open" && p.Author.Type == "user" && p.RawBody != "" {
				out = append(out, p)
			}
		}
		return out
	}
	title := func(tk *zendesktest.Ticket) string {
		if tk.Subject == "" {
			return fmt.Sprintf("[ZD-%d]", tk.ID)
		}
		return fmt.Sprintf("[ZD-%d] %s", tk.ID, zendesktest.DecodedText(tk.Subject))
	}
	ticketOf := func(r zendesktest.BadRecord) *zendesktest.Ticket {
		tk := hd.Ticket(r.TicketID)
		if r.Stream == "tickets" {
			tk = hd.Ticket(r.ID)
		}
		return tk
	}
	commentOf := func(r zendesktest.BadRecord) (*zendesktest.Ticket, int) {
		tk := hd.Ticket(r.TicketID)
		return tk, slices.IndexFunc(tk.Comments, func(c zendesktest.Comment) bool { return c.ID == r.ID })
	}
	// partOf is the index among its conversation's comment parts of the
	// first part of ticket tk's i-th comment: the requester's first public
	// comment opened the conversation, and a comment with more than five
	// files (those not missing) took a part for each five.
	partOf := func(tk *zendesktest.Ticket, i int) int {
		n := 0
		for j, cm := range tk.Comments[:i] {
			files := 0
			for _, a := range cm.Attachments {
				if !slices.Contains(hd.MissingFiles, a.ContentURL) {
					files++
				}
			}
			steps := max(1, (files+4)/5)
			if j == 0 && cm.AuthorID == tk.RequesterID && cm.Public {
				steps--
			}
			n += steps
		}
		return n
	}

	for _, r := range bad.Records {
		switch {
		case r.Stream == "users" && (r.Kind == zendesktest.BadInvalidPhone || r.Kind == zendesktest.BadRTLEmoji || r.Kind == zendesktest.BadInvalidUTF8 ||
			r.Kind == zendesktest.BadEpoch || r.Kind == zendesktest.BadFuture):
			u := hd.User(r.ID)
			c, ok := contacts[id(u.ID)]
			if !ok {
				t.Errorf("%s: user %d has no contact", r.Kind, u.ID)
				continue
			}
			wantSigned := max(u.CreatedAt.Unix(), 1) // Intercom keeps no time at or before the epoch
			if c.Name != zendesktest.DecodedText(u.Name) || c.Email != deref(u.Email) || c.Phone != "" || c.SignedUpAt != wantSigned {
				t.Errorf("%s: contact of user %d = name %q, email %q, phone %q, signed up %d; want %q, %q, no phone, %d",
					r.Kind, u.ID, c.Name, c.Email, c.Phone, c.SignedUpAt, zendesktest.DecodedText(u.Name), deref(u.Email), wantSigned)
			}
		case r.Stream == "organizations":
			var o zendesktest.Organization
			for _, x := range hd.Organizations {
				if x.ID == r.ID {
					o = x
				}
			}
			i := slices.IndexFunc(snap.Companies, func(c sandbox.Company) bool { return c.CompanyID == id(o.ID) })
			if i < 0 || snap.Companies[i].Name != o.Name || snap.Companies[i].RemoteCreatedAt != max(o.CreatedAt.Unix(), 1) {
				t.Errorf("%s: organization %d %q has no company of its name and date", r.Kind, o.ID, o.Name)
			}
		case r.Stream == "users" && r.Kind == zendesktest.BadDuplicateEmail:
			// Its tickets are the contact's of the user whose email it has.
			k := contacts[id(keeper[r.ID].ID)]
			for _, tk := range hd.Tickets {
				if tk.RequesterID == r.ID {
					if c := conv(tk.ID); c.Source.Author.ID != k.ID || k.ID == "" {
						t.Errorf("%s: ticket %d is contact %s's, want %s's (user %d)", r.Kind, tk.ID, c.Source.Author.ID, k.ID, keeper[r.ID].ID)
					}
				}
			}
		case r.Stream == "tickets" && r.Kind != zendesktest.BadInvalidEmail:
			tk, c := ticketOf(r), conv(r.ID)
			requester := contacts[id(tk.RequesterID)]
			if k := keeper[tk.RequesterID]; k != nil {
				requester = contacts[id(k.ID)]
			}
			if c.Title != title(tk) || c.Source.Author.ID != requester.ID || requester.ID == "" {
				t.Errorf("%s: ticket %d's conversation is %q by %s; want %q by the contact of user %d (%s)", r.Kind, tk.ID, c.Title, c.Source.Author.ID, title(tk), tk.RequesterID, requester.ID)
			}
			if r.Kind == zendesktest.BadAgentRequester {
				agent := hd.User(tk.RequesterID)
				if !agent.IsAgent() || requester.Email != *agent.Email || requester.Role != "user" {
					t.Errorf("%s: ticket %d's requester is contact %+v; want a contact with agent %d's email %s", r.Kind, tk.ID, requester, agent.ID, *agent.Email)
				}
			}
			first := tk.Comments[0]
			wantCreated := max(first.CreatedAt.Unix(), 1)
			if first.AuthorID == tk.RequesterID && c.Source.RawBody != zendesktest.DecodedText(first.PlainBody) {
				t.Errorf("%s: ticket %d opens with %q, want %q", r.Kind, tk.ID, short(c.Source.RawBody), short(zendesktest.DecodedText(first.PlainBody)))
			}
			if first.AuthorID != tk.RequesterID {
				wantCreated = max(tk.CreatedAt.Unix(), 1)
			}
			if c.CreatedAt != wantCreated {
				t.Errorf("%s: ticket %d's conversation at %d, want %d", r.Kind, tk.ID, c.CreatedAt, wantCreated)
			}
			if r.Kind == zendesktest.BadLongTicket {
				if got := len(comments(c)); got != len(tk.Comments)-1 || len(tk.Comments) != opts.LongComments && opts.LongComments != 0 {
					t.Errorf("%s: ticket %d has %d comments, its conversation %d parts after the opening", r.Kind, tk.ID, len(tk.Comments), got)
				}
			}
		case r.Stream == "comments" && r.Kind != zendesktest.BadUnknownTicket:
			tk, i := commentOf(r)
			cm := tk.Comments[i]
			c := conv(tk.ID)
			if i == 0 && cm.AuthorID == tk.RequesterID && cm.Public {
				if want := zendesktest.DecodedText(cm.PlainBody); c.Source.RawBody != want || c.CreatedAt != max(cm.CreatedAt.Unix(), 1) {
					t.Errorf("%s: ticket %d opens with %q at %d, want comment %d: %q at %d", r.Kind, tk.ID, short(c.Source.RawBody), c.CreatedAt, cm.ID, short(want), max(cm.CreatedAt.Unix(), 1))
				}
				continue
			}
			parts := comments(c)
			at := partOf(tk, i)
			if at >= len(parts) {
				t.Errorf("%s: comment %d of ticket %d: its conversation has %d parts", r.Kind, cm.ID, tk.ID, len(parts))
				continue
			}
			p := parts[at]
			body := zendesktest.DecodedText(cm.HTMLBody)
			switch r.Kind {
			case zendesktest.BadUnknownAuthor:
				if p.PartType != "note" || p.Author.Type != "admin" || !strings.Contains(p.RawBody, fmt.Sprintf("Comment by unknown user %d:", cm.AuthorID)) || !strings.Contains(p.RawBody, body) {
					t.Errorf("%s: comment %d is a %s by %s %s: %q; want a note of the default admin that names its author", r.Kind, cm.ID, p.PartType, p.Author.Type, p.Author.ID, short(p.RawBody))
				}
			default:
				if p.RawBody != body || p.CreatedAt != max(cm.CreatedAt.Unix(), 1) {
					t.Errorf("%s: comment %d is part %q at %d, want %q at %d", r.Kind, cm.ID, short(p.RawBody), p.CreatedAt, short(body), max(cm.CreatedAt.Unix(), 1))
				}
			}
			if r.Kind == zendesktest.BadManyAttachments {
				var got []int
				for _, q := range parts[at:min(len(parts), at+3)] {
					got = append(got, len(q.Attachments))
				}
				if !slices.Equal(got, []int{5, 5, 2}) {
					t.Errorf("%s: comment %d's 12 files are in parts of %v files, want 5, 5, 2", r.Kind, cm.ID, got)
				}
			}
		case r.Stream == "attachments" && r.Kind == zendesktest.BadMissingFile:
			// Left out of its comment's part, which holds the comment.
			tk := hd.Ticket(r.TicketID)
			c := conv(tk.ID)
			for _, p := range comments(c) {
				for _, a := range p.Attachments {
					if strings.Contains(a.URL, "contract-signed") {
						t.Errorf("%s: the missing file is on part %s", r.Kind, p.ID)
					}
				}
			}
		}
	}
}

func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
