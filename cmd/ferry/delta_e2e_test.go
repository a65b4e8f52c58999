package main

import (
	"strings"
	"testing"
	"time"

	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
)

// TestDeltaMigration changes the source after a migration (a reply that
// reopens a solved ticket, an open ticket solved, a new ticket from a new
// end user, a renamed end user) and migrates again: only the changes go,
// as new parts on the existing conversations, states and contacts brought
// up to date, and a new conversation; the sandbox then equals the source,
// run_changes shows the delta, and a third migrate sends nothing.
func TestDeltaMigration(t *testing.T) {
	w := newWorld(t, zendesktest.GenerateOptions{Seed: 17, Tickets: 20, EndUsers: 12, Organizations: 3, Articles: 4})
	w.mustFerry("migrate", "-w", w.ws)
	endUsers := func() []zendesktest.User {
		var out []zendesktest.User
		for _, u := range w.hd.Users {
			if !u.IsAgent() {
				out = append(out, u)
			}
		}
		return out
	}
	before := w.checkExact(t, endUsers())
	convs := w.idMap("tickets")

	// The changes, an hour after the help desk's last one.
	var at time.Time
	for _, tk := range w.hd.Tickets {
		if tk.UpdatedAt.After(at) {
			at = tk.UpdatedAt
		}
	}
	for _, u := range w.hd.Users {
		if u.UpdatedAt.After(at) {
			at = u.UpdatedAt
		}
	}
	at = at.Add(time.Hour).Truncate(time.Second)
	var reopened, solved, renamed, created, newUser int64
	w.zd.Mutate(func(hd *zendesktest.HelpDesk) {
		for i := range hd.Tickets {
			tk := &hd.Tickets[i]
			switch {
			case reopened == 0 && tk.Status == zendesktest.StatusSolved:
				reopened = tk.ID
				c := zendesktest.Comment{ID: 9_100_000_000_001, Type: "Comment", AuthorID: tk.RequesterID, Body: "It broke again.",
					PlainBody: "It broke again.", HTMLBody: "<p>It broke again.</p>", Public: true, Via: tk.Via, Attachments: []zendesktest.Attachment{}}
				must(t, tk.Reply(zendesktest.Audit{ID: 9_100_000_000_002, CreatedAt: at, AuthorID: tk.RequesterID, Via: tk.Via,
					Events: []zendesktest.AuditEvent{zendesktest.ChangeEvent(9_100_000_000_003, "status", tk.Status, zendesktest.StatusOpen)}}, c))
			case solved == 0 && tk.Status == zendesktest.StatusOpen && tk.AssigneeID != nil:
				solved = tk.ID
				c := zendesktest.Comment{ID: 9_100_000_000_004, Type: "Comment", AuthorID: *tk.AssigneeID, Body: "Fixed now.",
					PlainBody: "Fixed now.", HTMLBody: "<p>Fixed now.</p>", Public: true, Via: tk.Via, Attachments: []zendesktest.Attachment{}}
				must(t, tk.Reply(zendesktest.Audit{ID: 9_100_000_000_005, CreatedAt: at.Add(time.Minute), AuthorID: *tk.AssigneeID, Via: tk.Via,
					Events: []zendesktest.AuditEvent{zendesktest.ChangeEvent(9_100_000_000_006, "status", tk.Status, zendesktest.StatusSolved)}}, c))
			}
		}
		for i := range hd.Users {
			u := &hd.Users[i]
			if !u.IsAgent() && renamed == 0 {
				renamed = u.ID
				u.Name += " (renamed)"
				u.UpdatedAt = at.Add(2 * time.Minute)
			}
		}
		// A new end user, who writes a new ticket.
		var requester zendesktest.User
		for _, u := range hd.Users {
			if !u.IsAgent() && u.ID != renamed {
				requester = u
				break
			}
		}
		nu := requester
		nu.ID = 9_100_000_000_010
		nu.Name, nu.Email = "Nova Delta", ptr("nova.delta@example.com")
		nu.Phone, nu.OrganizationID, nu.ExternalID = nil, nil, nil
		nu.CreatedAt, nu.UpdatedAt = at.Add(3*time.Minute), at.Add(3*time.Minute)
		hd.Users = append(hd.Users, nu)
		newUser = nu.ID

		nt := hd.Tickets[0]
		nt.ID = int64(len(hd.Tickets) + 1)
		nt.RequesterID, nt.SubmitterID, nt.OrganizationID = nu.ID, nu.ID, nil
		nt.Status, nt.AssigneeID, nt.GroupID, nt.Comments, nt.Audits = zendesktest.StatusNew, nil, nil, nil, nil
		nt.EmailCCIDs, nt.CollaboratorIDs, nt.FollowerIDs = nil, nil, nil
		nt.CreatedAt, nt.UpdatedAt, nt.GeneratedTimestamp = at.Add(4*time.Minute), at.Add(4*time.Minute), at.Add(4*time.Minute).Unix()
		c := zendesktest.Comment{ID: 9_100_000_000_011, Type: "Comment", AuthorID: nu.ID, Body: "Hello?", PlainBody: "Hello?",
			HTMLBody: "<p>Hello?</p>", Public: true, Via: nt.Via, Attachments: []zendesktest.Attachment{}}
		must(t, nt.Reply(zendesktest.Audit{ID: 9_100_000_000_012, CreatedAt: at.Add(4 * time.Minute), AuthorID: nu.ID, Via: nt.Via,
			Events: []zendesktest.AuditEvent{
				zendesktest.CreateEvent(9_100_000_000_013, "subject", nt.Subject),
				zendesktest.CreateEvent(9_100_000_000_014, "status", zendesktest.StatusNew),
			}}, c))
		hd.Tickets = append(hd.Tickets, nt)
		created = nt.ID
	})
	if reopened == 0 || solved == 0 {
		t.Fatal("the help desk has no solved ticket or no assigned open ticket to change")
	}

	var linked int64
	if w.hd.User(renamed).OrganizationID != nil {
		linked = 1
	}
	calls := w.ic.Stats()
	out := w.mustFerry("migrate", "-w", w.ws)
	after := w.checkExact(t, endUsers())
	sent := func(endpoint string) int64 {
		return w.ic.Stats().Endpoints[endpoint].Requests - calls.Endpoints[endpoint].Requests
	}

	// Only the changes went: one conversation and one contact created, the
	// renamed contact updated, two replies and the new ticket's none (its
	// one comment opened it).
	for ep, want := range map[string]int64{
		"POST /conversations":                         1,
		"POST /contacts":                              1,
		"PUT /contacts/{contact_id}":                  1,
		"POST /conversations/{conversation_id}/reply": 2,
		// The customer's reply reopened its conversation (Intercom does);
		// the other is closed.
		"POST /conversations/{conversation_id}/parts": 1,
		"POST /help_center/collections":               0,
		"POST /articles":                              0,
		// The renamed contact's company link is made again (its
		// organization may have changed).
		"POST /contacts/{contact_id}/companies": linked,
	} {
		if got := sent(ep); got != want {
			t.Errorf("the delta sent %d × %s, want %d", got, ep, want)
		}
	}
	if got := len(after.Conversations); got != len(before.Conversations)+1 {
		t.Errorf("%d conversations after the delta, want %d", got, len(before.Conversations)+1)
	}
	if got := w.idMap("tickets"); got[id(reopened)] != convs[id(reopened)] || got[id(solved)] != convs[id(solved)] || got[id(created)] == "" {
		t.Errorf("the changed tickets moved to other conversations, or the new one has none: %v", got)
	}
	if w.idMap("contacts")[id(newUser)] == "" {
		t.Errorf("the new end user has no contact")
	}

	// The delta, as the workspace shows it.
	q := w.mustFerry("query", "-w", w.ws, "--format", "csv",
		"SELECT entity, created, updated FROM run_changes WHERE run_id = (SELECT max(run_id) FROM run_changes) ORDER BY entity")
	for _, want := range []string{"comments,3,0", "contacts,1,1", "tickets,1,2"} {
		if !strings.Contains(q, want) {
			t.Errorf("run_changes of the delta lacks %q:\n%s", want, q)
		}
	}
	if !strings.Contains(out, "ENTITY") || !strings.Contains(out, "this run: created 3 comments, 1 contacts, 1 tickets; brought up to date 1 contacts, 2 tickets") {
		t.Errorf("migrate prints no summary, or not the delta:\n%s", out)
	}

	// Verify reads it all back equal, the changed records included.
	if out := w.mustFerry("verify", "-w", w.ws); !strings.Contains(out, "Intercom holds what the source says") {
		t.Errorf("verify after the delta:\n%s", out)
	}

	// Nothing changed since: a third migrate creates and changes nothing.
	calls = w.ic.Stats()
	w.mustFerry("migrate", "-w", w.ws)
	for ep, st := range w.ic.Stats().Endpoints {
		if strings.HasPrefix(ep, "GET ") {
			continue
		}
		if n := st.Requests - calls.Endpoints[ep].Requests; n != 0 {
			t.Errorf("a migrate after the delta sent %d × %s", n, ep)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
