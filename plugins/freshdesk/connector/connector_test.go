package connector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryhq/ferry/plugins/freshdesk/freshdesktest"
	"github.com/ferryhq/ferry/sdk/schema"
	"github.com/ferryhq/ferry/sdk/source/faults"
	"github.com/ferryhq/ferry/sdk/source/sourcetest"
)

// The records a read must bring, written from the generated help desk
// apart from the connector's own mapping, so that a mistake in one is
// not repeated in the other.

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func ptrID(p *int64) string {
	if p == nil {
		return ""
	}
	return itoa(*p)
}

func strOf(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantAgent(a *freshdesktest.Agent) *schema.User {
	updated := a.UpdatedAt
	if a.Contact.UpdatedAt.After(updated) {
		updated = a.Contact.UpdatedAt
	}
	phone := a.Contact.Phone.Value
	if phone == "" {
		phone = a.Contact.Mobile.Value
	}
	return &schema.User{
		ID: itoa(a.ID), Role: schema.RoleAgent, Name: a.Contact.Name, Email: a.Contact.Email, Phone: phone,
		Active: true, CreatedAt: a.CreatedAt, UpdatedAt: updated,
	}
}

func wantContact(t *testing.T, c *freshdesktest.Contact) *schema.User {
	phone := c.Phone.Value
	if phone == "" {
		phone = c.Mobile.Value
	}
	u := &schema.User{
		ID: itoa(c.ID), Role: schema.RoleEndUser, Name: c.Name, Email: strOf(c.Email), Phone: phone,
		OrganizationID: ptrID(c.CompanyID), Active: !c.Deleted, Suspended: c.Blocked && !c.Deleted,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if len(c.CustomFields) > 0 {
		u.CustomFields = mustJSON(t, c.CustomFields)
	}
	return u
}

func wantCompany(t *testing.T, c *freshdesktest.Company) *schema.Organization {
	o := &schema.Organization{ID: itoa(c.ID), Name: c.Name, Domains: c.Domains, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if len(c.CustomFields) > 0 {
		o.CustomFields = mustJSON(t, c.CustomFields)
	}
	return o
}

func wantGroup(g *freshdesktest.Group) *schema.Group {
	return &schema.Group{ID: itoa(g.ID), Name: g.Name, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt}
}

// statusNames are the canonical names of the generated help desk's
// statuses.
var statusNames = map[int]string{2: "open", 3: "pending", 4: "resolved", 5: "closed", 6: "waiting on customer", 7: "waiting on third party"}

var priorityNames = map[int]string{1: "low", 2: "medium", 3: "high", 4: "urgent"}

func wantTicketField(t *testing.T, f *freshdesktest.TicketField) *schema.TicketField {
	type opt struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	type numbered struct {
		o opt
		n int64
	}
	var opts []opt
	var byNumber []numbered
	switch f.Type {
	case freshdesktest.FieldStatus:
		var ch map[string][]string
		if err := json.Unmarshal(f.Choices, &ch); err != nil {
			t.Fatal(err)
		}
		for k, labels := range ch {
			n, _ := strconv.Atoi(k)
			byNumber = append(byNumber, numbered{opt{labels[0], statusNames[n]}, int64(n)})
		}
	case freshdesktest.FieldPriority, freshdesktest.FieldSource, freshdesktest.FieldGroup, freshdesktest.FieldAgent:
		var ch map[string]int64
		if err := json.Unmarshal(f.Choices, &ch); err != nil {
			t.Fatal(err)
		}
		for k, n := range ch {
			v := itoa(n)
			if f.Type == freshdesktest.FieldPriority {
				v = priorityNames[int(n)]
			}
			byNumber = append(byNumber, numbered{opt{k, v}, n})
		}
	case freshdesktest.FieldDropdown, freshdesktest.FieldTicketType:
		var ch []string
		if err := json.Unmarshal(f.Choices, &ch); err != nil {
			t.Fatal(err)
		}
		for _, c := range ch {
			opts = append(opts, opt{c, c})
		}
	}
	sort.Slice(byNumber, func(i, j int) bool { return byNumber[i].n < byNumber[j].n })
	for _, b := range byNumber {
		opts = append(opts, b.o)
	}
	tf := &schema.TicketField{ID: itoa(f.ID), Title: f.Label, Type: f.Type, Active: true}
	if len(opts) > 0 {
		tf.Options = mustJSON(t, opts)
	}
	return tf
}

func wantTicket(t *testing.T, hd *freshdesktest.HelpDesk, tk *freshdesktest.Ticket) *schema.Ticket {
	fieldIDs := map[string]string{}
	for _, f := range hd.TicketFields {
		fieldIDs[f.Name] = itoa(f.ID)
	}
	custom := map[string]any{}
	for name, v := range tk.CustomFields {
		custom[fieldIDs[name]] = v
	}
	return &schema.Ticket{
		ID: itoa(tk.ID), Subject: tk.Subject, Status: statusNames[tk.Status], Priority: priorityNames[tk.Priority],
		Type: strOf(tk.Type), RequesterID: itoa(tk.RequesterID), AssigneeID: ptrID(tk.ResponderID), GroupID: ptrID(tk.GroupID),
		OrganizationID: ptrID(tk.CompanyID), Tags: tk.Tags, CustomFields: mustJSON(t, custom),
		CreatedAt: tk.CreatedAt, UpdatedAt: tk.UpdatedAt,
	}
}

func wantComments(tk *freshdesktest.Ticket) []*schema.Comment {
	out := []*schema.Comment{{
		ID: "description-" + itoa(tk.ID), TicketID: itoa(tk.ID), AuthorID: itoa(tk.RequesterID), Public: true,
		BodyHTML: tk.Description, BodyText: tk.DescriptionText, CreatedAt: tk.CreatedAt,
	}}
	for _, c := range tk.Conversations {
		out = append(out, &schema.Comment{
			ID: itoa(c.ID), TicketID: itoa(tk.ID), AuthorID: itoa(c.UserID), Public: !c.Private,
			BodyHTML: c.Body, BodyText: c.BodyText, CreatedAt: c.CreatedAt,
		})
	}
	return out
}

func wantAttachments(base string, tk *freshdesktest.Ticket) []*schema.Attachment {
	var out []*schema.Attachment
	add := func(commentID string, as []freshdesktest.Attachment) {
		for i, a := range as {
			out = append(out, &schema.Attachment{
				ID: itoa(a.ID), TicketID: itoa(tk.ID), CommentID: commentID, FileName: a.Name, ContentType: a.ContentType,
				Size: a.Size, URL: base + a.AttachmentURL, Position: int64(i),
			})
		}
	}
	add("description-"+itoa(tk.ID), tk.Attachments)
	for _, c := range tk.Conversations {
		add(itoa(c.ID), c.Attachments)
	}
	return out
}

func wantKB(hd *freshdesktest.HelpDesk) (categories []*schema.KBCategory, articles []*schema.KBArticle) {
	for _, c := range hd.SolutionCategories {
		var body string
		if c.Description != nil {
			body = "<p>" + html.EscapeString(*c.Description) + "</p>"
		}
		categories = append(categories, &schema.KBCategory{KBEntry: schema.KBEntry{
			ID: "category-" + itoa(c.ID), Locale: hd.PrimaryLanguage, Title: c.Name, BodyHTML: body, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		}})
		for _, f := range c.Folders {
			var body string
			if f.Description != nil {
				body = "<p>" + html.EscapeString(*f.Description) + "</p>"
			}
			categories = append(categories, &schema.KBCategory{KBEntry: schema.KBEntry{
				ID: "folder-" + itoa(f.ID), ParentID: "category-" + itoa(c.ID), Locale: hd.PrimaryLanguage, Title: f.Name,
				BodyHTML: body, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt,
			}})
			for _, a := range f.Articles {
				articles = append(articles, &schema.KBArticle{KBEntry: schema.KBEntry{
					ID: itoa(a.ID), ParentID: "folder-" + itoa(f.ID), Locale: hd.PrimaryLanguage, Title: a.Title, BodyHTML: a.Description,
					AuthorID: itoa(a.AgentID), CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
				}})
			}
		}
	}
	return categories, articles
}

// canon is a record's canonical JSON without its Raw, with JSON columns
// and empty lists normalized, for comparison.
func canon(t *testing.T, r schema.Record) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "raw")
	for k, v := range m {
		if l, ok := v.([]any); ok && len(l) == 0 {
			delete(m, k)
		}
	}
	b, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// compare checks that a read's records of a stream are exactly want, field
// by field, each once.
func compare[R schema.Record](t *testing.T, res *sourcetest.Result, stream string, want []R) {
	t.Helper()
	got := map[string]schema.Record{}
	for _, r := range res.Records(stream) {
		if _, dup := got[r.SourceID()]; dup {
			t.Errorf("%s %s came twice", stream, r.SourceID())
		}
		got[r.SourceID()] = r
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d records, want %d", stream, len(got), len(want))
	}
	bad := 0
	for _, w := range want {
		g, ok := got[w.SourceID()]
		if !ok {
			t.Errorf("%s %s: not read", stream, w.SourceID())
			bad++
		} else if gc, wc := canon(t, g), canon(t, w); gc != wc {
			t.Errorf("%s %s:\n got %s\nwant %s", stream, w.SourceID(), gc, wc)
			bad++
		}
		if bad > 3 {
			t.Fatalf("%s: more differences left out", stream)
		}
	}
}

// wantAll is every record the help desk should map to, by stream, and the
// tickets it should skip, with their reasons.
func wantAll(t *testing.T, hd *freshdesktest.HelpDesk, base string) (map[string][]schema.Record, map[string]string) {
	want := map[string][]schema.Record{}
	add := func(stream string, r schema.Record) { want[stream] = append(want[stream], r) }
	skips := map[string]string{}
	for i := range hd.Agents {
		add(schema.Users, wantAgent(&hd.Agents[i]))
	}
	for i := range hd.Contacts {
		add(schema.Users, wantContact(t, &hd.Contacts[i]))
	}
	for i := range hd.Companies {
		add(schema.Organizations, wantCompany(t, &hd.Companies[i]))
	}
	for i := range hd.Groups {
		add(schema.Groups, wantGroup(&hd.Groups[i]))
	}
	for i := range hd.TicketFields {
		add(schema.TicketFields, wantTicketField(t, &hd.TicketFields[i]))
	}
	for i := range hd.Tickets {
		tk := &hd.Tickets[i]
		switch {
		case tk.Deleted:
			skips[itoa(tk.ID)] = "deleted in Freshdesk"
			continue
		case tk.Spam:
			skips[itoa(tk.ID)] = "spam in Freshdesk"
			continue
		}
		add(schema.Tickets, wantTicket(t, hd, tk))
		for _, c := range wantComments(tk) {
			add(schema.Comments, c)
		}
		for _, a := range wantAttachments(base, tk) {
			add(schema.Attachments, a)
		}
	}
	cats, arts := wantKB(hd)
	for _, c := range cats {
		add(schema.KBCategories, c)
	}
	for _, a := range arts {
		add(schema.KBArticles, a)
	}
	return want, skips
}

func skipsOf(res *sourcetest.Result) map[string]string {
	out := map[string]string{}
	for _, m := range res.Outcomes("record_skipped", schema.Tickets) {
		out[m.SourceID] = m.Reason
	}
	return out
}

func TestReadMatchesTheHelpDesk(t *testing.T) {
	f := startFreshdesk(t, freshdesktest.GenerateOptions{}, freshdesktest.ServerOptions{})
	res := read(t, testConnector(), f.config(t, 0), nil, nil)
	want, wantSkips := wantAll(t, f.hd, f.ts.URL)
	for _, stream := range []string{schema.Users, schema.Organizations, schema.Groups, schema.TicketFields, schema.Tickets,
		schema.Comments, schema.Attachments, schema.KBCategories, schema.KBArticles} {
		t.Run(stream, func(t *testing.T) { compare(t, res, stream, want[stream]) })
	}
	if got := skipsOf(res); !maps.Equal(got, wantSkips) || len(got) < 2 {
		t.Errorf("skips %v, want %v", got, wantSkips)
	}
	if errs := res.Outcomes("record_error", schema.Tickets); len(errs) > 0 {
		t.Errorf("record errors: %v", errs)
	}

	// Raw is the API's own object: a viewed ticket, with its description
	// and attachments; a description comment keeps the ticket's first
	// message.
	for _, r := range res.Records(schema.Tickets)[:1] {
		tk := r.(*schema.Ticket)
		var raw map[string]any
		if err := json.Unmarshal(tk.Raw, &raw); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(raw["id"]) != tk.ID || raw["description"] == nil || raw["attachments"] == nil || raw["custom_fields"] == nil {
			t.Errorf("ticket raw is not the viewed ticket: %v", raw)
		}
	}
	for _, r := range res.Records(schema.Comments) {
		c := r.(*schema.Comment)
		if !strings.HasPrefix(c.ID, "description-") {
			continue
		}
		var raw map[string]any
		if err := json.Unmarshal(c.Raw, &raw); err != nil || raw["description"] == nil || raw["ticket_id"] == nil {
			t.Errorf("description raw %s", c.Raw)
		}
		break
	}

	// The calls a first read of the demo's help desk makes, 100 a page.
	st := f.srv.Stats()
	live := 0
	for _, tk := range f.hd.Tickets {
		if tk.Live() {
			live++
		}
	}
	folders := 0
	for _, c := range f.hd.SolutionCategories {
		folders += len(c.Folders)
	}
	wantCalls := map[string]int{
		freshdesktest.EndpointAgents: 1, freshdesktest.EndpointContacts: 3, freshdesktest.EndpointCompanies: 1,
		freshdesktest.EndpointGroups: 1, freshdesktest.EndpointTicketFields: 2,
		freshdesktest.EndpointTicket: live, freshdesktest.EndpointConversations: live,
		freshdesktest.EndpointHelpdeskSettings: 2, freshdesktest.EndpointCategories: 2,
		freshdesktest.EndpointFolders: 2 * len(f.hd.SolutionCategories), freshdesktest.EndpointArticles: folders,
	}
	for ep, n := range wantCalls {
		if st.Requests[ep] != n {
			t.Errorf("%s: %d calls, want %d", ep, st.Requests[ep], n)
		}
	}
	// The ticket list: the spam and deleted lists, one page each, and the
	// live list with one page more than its length needs, for each new
	// update time it starts from.
	if n := st.Requests[freshdesktest.EndpointTickets]; n < 2+(live+99)/100 || n > 2+2*((live+99)/100) {
		t.Errorf("%d ticket list calls for %d live tickets, 100 a page", n, live)
	}
	t.Logf("calls for %d tickets (%d live), %d conversations: %v (%d in all)", len(f.hd.Tickets), live, f.hd.ConversationCount(), st.Requests, st.Total())
}

// ids lists a read's record ids of a stream, sorted.
func idsOf(res *sourcetest.Result, stream string) []string {
	var ids []string
	for _, r := range res.Records(stream) {
		ids = append(ids, r.SourceID())
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

func TestDelta(t *testing.T) {
	f := startFreshdesk(t, freshdesktest.GenerateOptions{Seed: 11, Tickets: 60}, freshdesktest.ServerOptions{})
	cfg := f.config(t, 10)
	conn := testConnector()
	full := read(t, conn, cfg, nil, nil)
	cursors := map[string][]byte{schema.Users: lastCursor(full, schema.Users), schema.Tickets: lastCursor(full, schema.Tickets)}

	t.Run("nothing changed, nothing read", func(t *testing.T) {
		again := read(t, conn, cfg, []string{schema.Users, schema.Tickets}, cursors)
		for _, s := range []string{schema.Users, schema.Tickets, schema.Comments, schema.Attachments} {
			if n := len(again.Records(s)); n != 0 {
				t.Errorf("%s: %d records from a help desk that did not change", s, n)
			}
		}
	})

	// A ticket updated, a new ticket, a new reply on an old ticket, a
	// contact updated and a new contact: all after the final cursors.
	at := testEnd().Add(time.Hour)
	var updated, replied *freshdesktest.Ticket
	for i := range f.hd.Tickets {
		tk := &f.hd.Tickets[i]
		switch {
		case !tk.Live():
		case updated == nil:
			updated = tk
		case replied == nil && len(tk.Conversations) > 0:
			replied = tk
		}
	}
	updatedID, repliedID := updated.ID, replied.ID
	var newID, newContactID int64
	changedContact := f.hd.Contacts[3].ID
	f.srv.Mutate(func(hd *freshdesktest.HelpDesk) {
		tk := hd.Ticket(updatedID)
		tk.Status, tk.Priority, tk.UpdatedAt = freshdesktest.StatusClosed, freshdesktest.PriorityUrgent, at

		n := hd.Tickets[len(hd.Tickets)-1]
		n.ID++
		n.Spam, n.Deleted = false, false
		n.Subject = "A brand new ticket"
		n.CreatedAt, n.UpdatedAt = at.Add(time.Minute), at.Add(2*time.Minute)
		n.Attachments = nil
		n.Conversations = nil
		hd.Tickets = append(hd.Tickets, n)
		newID = n.ID

		r := hd.Ticket(repliedID)
		last := r.Conversations[len(r.Conversations)-1]
		last.ID += 1_000_000
		last.CreatedAt, last.UpdatedAt = at.Add(3*time.Minute), at.Add(3*time.Minute)
		last.Attachments = []freshdesktest.Attachment{}
		last.Body, last.BodyText = "<div>One more thing.</div>", "One more thing."
		r.AddConversation(last)

		c := hd.Contact(changedContact)
		c.Name, c.UpdatedAt = "Renamed Contact", at
		nc := *c
		nc.ID, nc.Name, nc.Email = nc.ID+1_000_000, "New Contact", nil
		nc.CreatedAt, nc.UpdatedAt = at, at.Add(time.Minute)
		hd.Contacts = append(hd.Contacts, nc)
		newContactID = nc.ID
	})

	again := read(t, conn, cfg, []string{schema.Users, schema.Tickets}, cursors)
	if got, want := idsOf(again, schema.Tickets), sorted(itoa(updatedID), itoa(repliedID), itoa(newID)); !slices.Equal(got, want) {
		t.Errorf("tickets after the change: %v, want %v", got, want)
	}
	var commentIDs []string
	for _, id := range []int64{updatedID, repliedID, newID} {
		for _, c := range wantComments(f.hd.Ticket(id)) {
			commentIDs = append(commentIDs, c.ID)
		}
	}
	if got := idsOf(again, schema.Comments); !slices.Equal(got, sorted(commentIDs...)) {
		t.Errorf("comments after the change: %v, want %v", got, sorted(commentIDs...))
	}
	if got, want := idsOf(again, schema.Users), sorted(itoa(changedContact), itoa(newContactID)); !slices.Equal(got, want) {
		t.Errorf("users after the change: %v, want %v", got, want)
	}
	for _, r := range again.Records(schema.Tickets) {
		if tk := r.(*schema.Ticket); tk.ID == itoa(updatedID) && (tk.Status != "closed" || tk.Priority != "urgent") {
			t.Errorf("the updated ticket reads %s/%s", tk.Status, tk.Priority)
		}
	}
	if s := again.Outcomes("record_skipped", schema.Tickets); len(s) != 0 {
		t.Errorf("skips %v: none changed", s)
	}

	t.Run("and then nothing again", func(t *testing.T) {
		next := map[string][]byte{schema.Users: lastCursor(again, schema.Users), schema.Tickets: lastCursor(again, schema.Tickets)}
		last := read(t, conn, cfg, []string{schema.Users, schema.Tickets}, next)
		if n := len(last.Records(schema.Tickets)) + len(last.Records(schema.Users)); n != 0 {
			t.Errorf("%d records after the delta's cursors", n)
		}
	})
}

func TestPageCapIsNeverMet(t *testing.T) {
	// 330 tickets one a page: 330 pages, past Freshdesk's 300.
	f := startFreshdesk(t, freshdesktest.GenerateOptions{Seed: 5, Tickets: 330, MaxConversations: 1}, freshdesktest.ServerOptions{})
	res := read(t, testConnector(), f.config(t, 1), []string{schema.Tickets}, nil)
	want, skips := wantAll(t, f.hd, f.ts.URL)
	compare(t, res, schema.Tickets, want[schema.Tickets])
	if got := skipsOf(res); !maps.Equal(got, skips) {
		t.Errorf("skips %v, want %v", got, skips)
	}
	st := f.srv.Stats()
	if st.MaxTicketPage > freshdesktest.MaxTicketPages || st.Statuses[400] != 0 {
		t.Errorf("asked for page %d, %d refused", st.MaxTicketPage, st.Statuses[400])
	}
	t.Logf("%d ticket list calls, highest page %d", st.Requests[freshdesktest.EndpointTickets], st.MaxTicketPage)
}

func TestTicketUpdatedDuringTheRead(t *testing.T) {
	// A ticket already read is updated while the read goes on: it moves
	// to the end of the list. Paging by page number would then skip the
	// ticket after the current page; paging by update time skips nothing.
	f := startFreshdesk(t, freshdesktest.GenerateOptions{Seed: 9, Tickets: 50}, freshdesktest.ServerOptions{})
	moved := false
	var movedID string
	conn := testConnector()
	conn.transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		// Only the list's requests, one at a time, look at moved.
		if err == nil && r.URL.Path == "/api/v2/tickets" && r.URL.Query().Get("filter") == "" && !moved {
			moved = true
			var first []struct {
				ID int64 `json:"id"`
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(body))
			if err := json.Unmarshal(body, &first); err != nil || len(first) == 0 {
				t.Errorf("first page: %v", err)
				return resp, nil
			}
			movedID = itoa(first[0].ID)
			f.srv.Mutate(func(hd *freshdesktest.HelpDesk) {
				hd.Ticket(first[0].ID).UpdatedAt = time.Now().UTC().Truncate(time.Second)
			})
		}
		return resp, err
	})
	cfg := f.config(t, 5)
	res := read(t, conn, cfg, []string{schema.Tickets}, nil)
	want, _ := wantAll(t, f.hd, f.ts.URL)
	var wantIDs []string
	for _, r := range want[schema.Tickets] {
		wantIDs = append(wantIDs, r.SourceID())
	}
	if got := idsOf(res, schema.Tickets); !slices.Equal(got, sorted(wantIDs...)) {
		t.Fatalf("read %d tickets, want %d: %v", len(got), len(wantIDs), got)
	}

	// The next read, once the update is out of the lag window, brings the
	// moved ticket again, and it alone.
	conn.transport = nil
	conn.now = func() time.Time { return time.Now().Add(5 * time.Minute) }
	again := read(t, conn, cfg, []string{schema.Tickets}, map[string][]byte{schema.Tickets: lastCursor(res, schema.Tickets)})
	if got := idsOf(again, schema.Tickets); !slices.Equal(got, []string{movedID}) {
		t.Errorf("the next read brought %v, want the moved ticket %s", got, movedID)
	}
}

func TestFaultsChangeNothing(t *testing.T) {
	f := startFreshdesk(t, freshdesktest.GenerateOptions{Seed: 21, Tickets: 60, Contacts: 40}, freshdesktest.ServerOptions{})
	clean := read(t, testConnector(), f.config(t, 10), nil, nil)

	faults := faults.Wrap(f.srv, faults.Options{Rate: 0.1, Seed: 4, Stall: 100 * time.Millisecond})
	flaky := httptest.NewServer(faults)
	t.Cleanup(flaky.Close)
	conn := testConnector()
	conn.retry.attempts = 10 // a few requests meet several faults in a row
	res := read(t, conn, configFor(t, flaky.URL, f.srv.APIKey(), 10), nil, nil)

	injected := faults.Injected()
	total := 0
	for _, n := range injected {
		total += n
	}
	if total < 10 {
		t.Fatalf("only %d faults injected (%v): the test tests little", total, injected)
	}
	for _, stream := range schema.StreamNames() {
		want := clean.Records(stream)
		got := map[string]string{}
		for _, r := range res.Records(stream) {
			if _, dup := got[r.SourceID()]; dup {
				t.Errorf("%s %s came twice", stream, r.SourceID())
			}
			got[r.SourceID()] = canon(t, r)
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d records through faults, %d without", stream, len(got), len(want))
		}
		for _, r := range want {
			c := canon(t, r)
			// Attachment URLs name the host that served them.
			c = strings.ReplaceAll(c, f.ts.URL, flaky.URL)
			if got[r.SourceID()] != c {
				t.Errorf("%s %s differs through faults:\n got %s\nwant %s", stream, r.SourceID(), got[r.SourceID()], c)
				break
			}
		}
	}
	if !maps.Equal(skipsOf(res), skipsOf(clean)) {
		t.Errorf("skips through faults %v, without %v", skipsOf(res), skipsOf(clean))
	}
	t.Logf("faults injected: %v", injected)
}

func TestRecordErrorsAndSkips(t *testing.T) {
	f := startFreshdesk(t, freshdesktest.GenerateOptions{Seed: 2, Tickets: 40}, freshdesktest.ServerOptions{})
	var live []*freshdesktest.Ticket
	for i := range f.hd.Tickets {
		if tk := &f.hd.Tickets[i]; tk.Live() && len(tk.Conversations) > 0 {
			live = append(live, tk)
		}
	}
	noConversations, denied, gone := live[1], live[2], live[3]
	f.srv.InjectFault(freshdesktest.Fault{Path: fmt.Sprintf("/api/v2/tickets/%d/conversations", noConversations.ID), Status: http.StatusNotFound})
	f.srv.InjectFault(freshdesktest.Fault{Path: fmt.Sprintf("/api/v2/tickets/%d", denied.ID), Status: http.StatusForbidden})
	f.srv.InjectFault(freshdesktest.Fault{Path: fmt.Sprintf("/api/v2/tickets/%d", gone.ID), Status: http.StatusNotFound})

	res := read(t, testConnector(), f.config(t, 0), []string{schema.Tickets}, nil)
	errs := map[string]string{}
	for _, s := range []string{schema.Tickets, schema.Comments} {
		for _, m := range res.Outcomes("record_error", s) {
			errs[s+" "+m.SourceID] = m.Reason
		}
	}
	if len(errs) != 2 || !strings.Contains(errs["comments "+itoa(noConversations.ID)], "404") ||
		!strings.Contains(errs["tickets "+itoa(denied.ID)], "403") {
		t.Errorf("record errors %v", errs)
	}
	if got := skipsOf(res)[itoa(gone.ID)]; got != "deleted in Freshdesk" {
		t.Errorf("the ticket gone since it was listed: skip %q", got)
	}
	tickets := idsOf(res, schema.Tickets)
	if slices.Contains(tickets, itoa(denied.ID)) || slices.Contains(tickets, itoa(gone.ID)) || !slices.Contains(tickets, itoa(noConversations.ID)) {
		t.Errorf("tickets read: %v", tickets)
	}
	// The ticket whose conversations are missing still has its
	// description.
	if comments := idsOf(res, schema.Comments); !slices.Contains(comments, "description-"+itoa(noConversations.ID)) {
		t.Error("the description of the ticket without conversations is missing")
	}
}

func TestRateLimitsArePaced(t *testing.T) {
	f := startFreshdesk(t, freshdesktest.GenerateOptions{Seed: 8, Tickets: 30, Contacts: 20}, freshdesktest.ServerOptions{
		RequestsPerMinute: 40, RateLimitWindow: 500 * time.Millisecond,
	})
	conn := testConnector()
	conn.rateWindow = 500 * time.Millisecond
	start := time.Now()
	res := read(t, conn, f.config(t, 10), nil, nil)
	if n := len(res.Records(schema.Tickets)); n == 0 {
		t.Fatal("no tickets")
	}
	st := f.srv.Stats()
	served := st.Total() - st.Statuses[http.StatusTooManyRequests]
	// The pacer spreads requests at the budget's rate: few 429s, if any.
	if n := st.Statuses[http.StatusTooManyRequests]; n > served/10 {
		t.Errorf("%d requests answered 429 for %d served", n, served)
	}
	// 40 a half-second window: the read cannot have been faster.
	if minimum := time.Duration(served/40-1) * 500 * time.Millisecond; time.Since(start) < minimum {
		t.Errorf("%d requests in %v, faster than the budget allows (%v)", served, time.Since(start), minimum)
	}
	t.Logf("%d requests in %v, %d answered 429", st.Total(), time.Since(start).Round(time.Millisecond), st.Statuses[http.StatusTooManyRequests])
}

func TestCredentialsGoHomeOnly(t *testing.T) {
	// Another host: attachments' storage, a redirect's target and the
	// links of an account under a custom domain all point there.
	var mu sync.Mutex
	var foreign []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		foreign = append(foreign, r.URL.Path+" auth="+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[]`))
	}))
	t.Cleanup(other.Close)

	hd := freshdesktest.Generate(freshdesktest.GenerateOptions{Seed: 4, Tickets: 30, End: testEnd()})
	srv := freshdesktest.NewServer(hd, freshdesktest.ServerOptions{BaseURL: other.URL, AttachmentBaseURL: other.URL})
	var redirected string
	for _, tk := range hd.Tickets {
		if tk.Live() {
			redirected = fmt.Sprintf("/api/v2/tickets/%d/conversations", tk.ID)
			break
		}
	}
	var unauthenticated int
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			mu.Lock()
			unauthenticated++
			mu.Unlock()
		}
		if r.URL.Path == redirected {
			http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusFound)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(home.Close)

	res := read(t, testConnector(), configFor(t, home.URL, srv.APIKey(), 5), nil, nil)
	if len(res.Records(schema.Tickets)) == 0 || len(res.Records(schema.Attachments)) == 0 {
		t.Fatal("nothing read")
	}
	for _, r := range res.Records(schema.Attachments) {
		if a := r.(*schema.Attachment); !strings.HasPrefix(a.URL, other.URL) {
			t.Fatalf("attachment url %s: the test's attachments are not elsewhere", a.URL)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if unauthenticated != 0 {
		t.Errorf("%d requests to the account's own host went without credentials", unauthenticated)
	}
	// Only the redirected request reached the other host, without the key:
	// not the Link headers' next pages, not an attachment.
	if len(foreign) != 1 || !strings.HasPrefix(foreign[0], redirected+" auth=") {
		t.Fatalf("the other host got %v, want the one redirected request", foreign)
	}
	if !strings.HasSuffix(foreign[0], "auth=") {
		t.Errorf("the other host got credentials: %s", foreign[0])
	}
}

func TestSpecAndStreams(t *testing.T) {
	c := New()
	spec := c.Spec()
	var sc struct {
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal([]byte(spec.ConfigSchema), &sc); err != nil {
		t.Fatalf("config schema is not JSON: %v", err)
	}
	if spec.Name != "freshdesk" || spec.Version == "" || !slices.Equal(sc.Required, []string{"base_url", "api_key"}) || len(sc.Properties) != 3 {
		t.Errorf("spec %+v, schema %+v", spec, sc)
	}
	streams, err := c.Streams(json.RawMessage(`{"base_url": "https://acme.freshdesk.com", "api_key": "k"}`))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range streams {
		info := s.Info()
		names = append(names, info.Name)
		if _, err := schema.Schema(info.Name); err != nil {
			t.Errorf("stream %s is not canonical: %v", info.Name, err)
		}
		wantEmits := []string(nil)
		if info.Name == schema.Tickets {
			wantEmits = []string{schema.Comments, schema.Attachments}
		}
		if !slices.Equal(info.Emits, wantEmits) {
			t.Errorf("%s emits %v, want %v", info.Name, info.Emits, wantEmits)
		}
		if cursor := info.CursorField; (cursor != "") != (info.Name == schema.Users || info.Name == schema.Tickets) {
			t.Errorf("%s has cursor field %q", info.Name, cursor)
		}
	}
	want := []string{schema.Users, schema.Organizations, schema.Groups, schema.TicketFields, schema.Tickets, schema.KBCategories, schema.KBArticles}
	if !slices.Equal(names, want) {
		t.Errorf("streams %v, want %v", names, want)
	}
	if _, err := c.Streams(json.RawMessage(`{}`)); err == nil {
		t.Error("Streams accepted an empty config")
	}
	cfg := Config{BaseURL: "https://acme.freshdesk.com", APIKey: "super-secret", PageSize: 10}
	if s := fmt.Sprint(cfg) + fmt.Sprintf("%v %+v %s %#v", cfg, cfg, cfg, cfg); strings.Contains(s, "super-secret") {
		t.Errorf("printing a config shows its API key: %s", s)
	}
}

func TestZeroConnectorReads(t *testing.T) {
	f := startFreshdesk(t, freshdesktest.GenerateOptions{Tickets: 10}, freshdesktest.ServerOptions{})
	var c Connector
	if err := c.Check(t.Context(), f.config(t, 0)); err != nil {
		t.Fatal(err)
	}
	res := read(t, &c, f.config(t, 0), []string{schema.Tickets}, nil)
	if n := len(res.Records(schema.Tickets)) + len(res.Outcomes("record_skipped", schema.Tickets)); n != 10 {
		t.Fatalf("%d tickets read or skipped, want 10", n)
	}
}
