package freshdesktest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAuthentication(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 10}, ServerOptions{APIKey: "s3cret"})
	tests := []struct {
		key    string
		status int
	}{
		{"s3cret", http.StatusOK},
		{"", http.StatusUnauthorized},
		{"wrong", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		a := e.getAs(t, "/api/v2/agents/me", tt.key)
		if a.status != tt.status {
			t.Errorf("key %q: %d, want %d", tt.key, a.status, tt.status)
		}
		if a.status == http.StatusUnauthorized && a.object(t)["code"] != "invalid_credentials" {
			t.Errorf("401 body %s", a.body)
		}
	}
	me := e.get(t, "/api/v2/agents/me").object(t)
	if me["id"].(float64) != float64(e.hd.Agents[0].ID) || me["contact"] == nil {
		t.Errorf("me = %v, want the first agent", me)
	}
	if got := NewServer(e.hd, ServerOptions{}).APIKey(); got != DefaultAPIKey {
		t.Errorf("default key %q", got)
	}
}

// follow reads a list from path through its Link headers.
func follow(t *testing.T, e *emulator, path string) (all []map[string]any, pages int) {
	t.Helper()
	for path != "" {
		a := e.get(t, path)
		if a.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, a.status, a.body)
		}
		all = append(all, a.list(t)...)
		pages++
		path = ""
		if link := a.header.Get("Link"); link != "" {
			target := link[strings.Index(link, "<")+1 : strings.Index(link, ">")]
			if !strings.HasSuffix(link, `rel="next"`) || !strings.HasPrefix(target, e.ts.URL) {
				t.Fatalf("Link %q", link)
			}
			path = strings.TrimPrefix(target, e.ts.URL)
		}
	}
	return all, pages
}

func TestTicketListPaging(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 95}, ServerOptions{})
	all, pages := follow(t, e, "/api/v2/tickets?updated_since=2000-01-01T00:00:00Z&order_by=updated_at&order_type=asc&per_page=10")
	var live []int64
	for _, tk := range e.hd.Tickets {
		if tk.Live() {
			live = append(live, tk.ID)
		}
	}
	got := ids(all)
	if !slices.Equal(slices.Sorted(slices.Values(got)), live) || pages != (len(live)+9)/10 {
		t.Fatalf("%d tickets in %d pages, want the %d live ones in %d", len(got), pages, len(live), (len(live)+9)/10)
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1]["updated_at"].(string), all[i]["updated_at"].(string)
		if a > b || a == b && got[i-1] > got[i] {
			t.Fatalf("tickets %d and %d are out of update order", got[i-1], got[i])
		}
	}
	// A list's tickets carry neither description nor attachments.
	for _, k := range []string{"description", "description_text", "attachments", "stats", "conversations", "requester", "deleted", "blocked"} {
		if _, ok := all[0][k]; ok {
			t.Errorf("a listed ticket has %q", k)
		}
	}
	// Default order: newest created first.
	def, _ := follow(t, e, "/api/v2/tickets?updated_since=2000-01-01&per_page=100")
	if first, last := def[0]["created_at"].(string), def[len(def)-1]["created_at"].(string); first < last {
		t.Error("the default order is not newest first")
	}
}

func TestTicketListFilters(t *testing.T) {
	now := testEnd()
	e := newEmulator(t, GenerateOptions{Tickets: 120, Span: 90 * 24 * time.Hour}, ServerOptions{Now: func() time.Time { return now }})
	since := "updated_since=" + url.QueryEscape(now.Add(-45*24*time.Hour).Format(time.RFC3339))
	count := func(pred func(tk *Ticket) bool) (n int) {
		for i := range e.hd.Tickets {
			if pred(&e.hd.Tickets[i]) {
				n++
			}
		}
		return n
	}
	tests := []struct {
		name, query string
		want        int
	}{
		{"no updated_since: created in the last 30 days", "", count(func(tk *Ticket) bool {
			return tk.Live() && !tk.CreatedAt.Before(now.Add(-DefaultTicketWindow))
		})},
		{"updated since", since, count(func(tk *Ticket) bool {
			return tk.Live() && !tk.UpdatedAt.Before(now.Add(-45*24*time.Hour))
		})},
		{"spam", "filter=spam&updated_since=2000-01-01", count(func(tk *Ticket) bool { return tk.Spam && !tk.Deleted })},
		{"deleted", "filter=deleted&updated_since=2000-01-01", count(func(tk *Ticket) bool { return tk.Deleted })},
		{"a requester's", fmt.Sprintf("requester_id=%d&updated_since=2000-01-01", e.hd.Tickets[0].RequesterID), count(func(tk *Ticket) bool {
			return tk.Live() && tk.RequesterID == e.hd.Tickets[0].RequesterID
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all, _ := follow(t, e, "/api/v2/tickets?per_page=100&"+tt.query)
			if len(all) != tt.want || tt.want == 0 && tt.name != "a requester's" {
				t.Errorf("%d tickets, want %d", len(all), tt.want)
			}
			for _, tk := range all {
				if strings.Contains(tt.query, "filter=deleted") != (tk["deleted"] == true) {
					t.Errorf("ticket %v: deleted=%v", tk["id"], tk["deleted"])
				}
				if strings.Contains(tt.query, "filter=spam") != (tk["spam"] == true) {
					t.Errorf("ticket %v: spam=%v", tk["id"], tk["spam"])
				}
			}
		})
	}
}

func TestIncludesAndViews(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 40}, ServerOptions{RequestsPerMinute: 1000})
	a := e.get(t, "/api/v2/tickets?updated_since=2000-01-01&include=description,stats,requester&per_page=1")
	tk := a.list(t)[0]
	for _, k := range []string{"description", "description_text", "stats", "requester"} {
		if tk[k] == nil {
			t.Errorf("include: no %q", k)
		}
	}
	if tk["attachments"] != nil {
		t.Error("a listed ticket has attachments")
	}
	if got := a.header.Get("X-RateLimit-Used-CurrentRequest"); got != "7" {
		t.Errorf("three includes cost %s credits, want 7", got)
	}
	if a := e.get(t, "/api/v2/tickets?include=conversations"); a.status != http.StatusBadRequest {
		t.Errorf("a list with include=conversations: %d", a.status)
	}

	var withMany *Ticket
	for i := range e.hd.Tickets {
		if len(e.hd.Tickets[i].Conversations) > 10 {
			withMany = &e.hd.Tickets[i]
		}
	}
	if withMany == nil {
		t.Fatal("no ticket with more than ten conversations")
	}
	view := e.get(t, fmt.Sprintf("/api/v2/tickets/%d?include=conversations", withMany.ID)).object(t)
	if view["description"] != withMany.Description || view["attachments"] == nil || len(view["conversations"].([]any)) != 10 {
		t.Errorf("view with conversations: description %v, attachments %v, %d conversations", view["description"] != nil, view["attachments"], len(view["conversations"].([]any)))
	}
	convs, pages := follow(t, e, fmt.Sprintf("/api/v2/tickets/%d/conversations?per_page=4", withMany.ID))
	if len(convs) != len(withMany.Conversations) || pages != (len(convs)+3)/4 {
		t.Errorf("%d conversations in %d pages", len(convs), pages)
	}
	for _, path := range []string{"/api/v2/tickets/999999", "/api/v2/tickets/x", "/api/v2/tickets/999999/conversations", "/api/v2/solutions/folders/1/articles", "/api/v2/nothing"} {
		if a := e.get(t, path); a.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, a.status)
		}
	}
}

func TestValidation(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 10}, ServerOptions{})
	tests := []struct{ path, field string }{
		{"/api/v2/tickets?foo=1", "foo"},
		{"/api/v2/tickets?per_page=101", "per_page"},
		{"/api/v2/tickets?page=0", "page"},
		{"/api/v2/tickets?page=301&updated_since=2000-01-01", "page"},
		{"/api/v2/tickets?updated_since=yesterday", "updated_since"},
		{"/api/v2/tickets?order_by=priority", "order_by"},
		{"/api/v2/tickets?order_type=up", "order_type"},
		{"/api/v2/tickets?filter=all", "filter"},
		{"/api/v2/contacts?state=gone", "state"},
		{"/api/v2/contacts?_updated_since=x", "_updated_since"},
		{"/api/v2/ticket_fields?per_page=10", "per_page"},
		{"/api/v2/solutions/categories?page=2", "page"},
	}
	for _, tt := range tests {
		a := e.get(t, tt.path)
		if a.status != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", tt.path, a.status)
			continue
		}
		body := a.object(t)
		errs, _ := body["errors"].([]any)
		if body["description"] != "Validation failed" || len(errs) != 1 || errs[0].(map[string]any)["field"] != tt.field {
			t.Errorf("GET %s: %s", tt.path, a.body)
		}
	}
	a := e.get(t, "/api/v2/tickets?page=301&updated_since=2000-01-01")
	if !strings.Contains(string(a.body), "beyond the 300th page") {
		t.Errorf("page 301: %s", a.body)
	}
	if st := e.srv.Stats(); st.MaxTicketPage != 301 {
		t.Errorf("MaxTicketPage %d", st.MaxTicketPage)
	}
}

func TestThePageCapIsLinkedPast(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 340, MaxConversations: 1}, ServerOptions{})
	a := e.get(t, "/api/v2/tickets?updated_since=2000-01-01&per_page=1&page=300")
	if a.status != http.StatusOK || !strings.Contains(a.header.Get("Link"), "page=301") {
		t.Fatalf("page 300: %d, Link %q: Freshdesk links the 301st page, which it refuses", a.status, a.header.Get("Link"))
	}
	if a := e.get(t, "/api/v2/tickets?updated_since=2000-01-01&per_page=1&page=301"); a.status != http.StatusBadRequest {
		t.Errorf("page 301: %d", a.status)
	}
}

func TestContacts(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 10, Contacts: 80}, ServerOptions{})
	byState := map[string][]int64{}
	for _, state := range []string{"", "deleted", "blocked", "verified", "unverified"} {
		all, _ := follow(t, e, "/api/v2/contacts?per_page=7&state="+state)
		if state == "" {
			all, _ = follow(t, e, "/api/v2/contacts?per_page=7")
		}
		byState[state] = ids(all)
		for _, c := range all {
			if _, ok := c["blocked"]; ok {
				t.Fatalf("contact %v shows the emulator's blocked flag", c["id"])
			}
		}
	}
	var live, deleted, blocked []int64
	for _, c := range e.hd.Contacts {
		switch {
		case c.Deleted:
			deleted = append(deleted, c.ID)
		case c.Blocked:
			blocked = append(blocked, c.ID)
		default:
			live = append(live, c.ID)
		}
	}
	sorted := func(s []int64) []int64 { return slices.Sorted(slices.Values(s)) }
	if !slices.Equal(sorted(byState[""]), live) || !slices.Equal(sorted(byState["deleted"]), deleted) || !slices.Equal(sorted(byState["blocked"]), blocked) {
		t.Errorf("states: %d live, %d deleted, %d blocked listed; want %d, %d, %d", len(byState[""]), len(byState["deleted"]), len(byState["blocked"]), len(live), len(deleted), len(blocked))
	}
	if len(byState["verified"])+len(byState["unverified"]) != len(live) {
		t.Error("verified and unverified do not add up to the live contacts")
	}
	// _updated_since leaves out the contacts updated before.
	cut := e.hd.Contacts[5].UpdatedAt
	recent, _ := follow(t, e, "/api/v2/contacts?per_page=100&_updated_since="+url.QueryEscape(cut.Format(time.RFC3339)))
	for _, c := range recent {
		if u, _ := time.Parse(time.RFC3339, c["updated_at"].(string)); u.Before(cut) {
			t.Errorf("contact %v updated %v, before %v", c["id"], u, cut)
		}
	}
	if len(recent) == 0 || len(recent) == len(live) {
		t.Errorf("%d contacts updated since %v", len(recent), cut)
	}
}

func TestRateLimits(t *testing.T) {
	now := testEnd()
	e := newEmulator(t, GenerateOptions{Tickets: 10}, ServerOptions{RequestsPerMinute: 5, Now: func() time.Time { return now }})
	for i := range 5 {
		a := e.get(t, "/api/v2/groups")
		if a.status != http.StatusOK || a.header.Get("X-RateLimit-Total") != "5" || a.header.Get("X-RateLimit-Remaining") != strconv.Itoa(4-i) ||
			a.header.Get("X-RateLimit-Used-CurrentRequest") != "1" {
			t.Fatalf("request %d: %d, headers %v", i, a.status, a.header)
		}
	}
	a := e.get(t, "/api/v2/groups")
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "60" || a.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("over the budget: %d, Retry-After %q", a.status, a.header.Get("Retry-After"))
	}
	now = now.Add(time.Minute)
	if a := e.get(t, "/api/v2/groups?per_page=1"); a.status != http.StatusOK {
		t.Errorf("a new window: %d", a.status)
	}
	// An include costs more than the window has left.
	if a := e.get(t, "/api/v2/tickets?include=description,stats"); a.status != http.StatusTooManyRequests {
		t.Errorf("5 credits with 4 left: %d", a.status)
	}
	unlimited := newEmulator(t, GenerateOptions{Tickets: 10}, ServerOptions{})
	if h := unlimited.get(t, "/api/v2/groups").header; h.Get("X-RateLimit-Total") != "" {
		t.Error("an unlimited server sends rate-limit headers")
	}
}

func TestStatsMutateAndFaults(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 10}, ServerOptions{})
	tk := e.hd.Tickets[0]
	e.srv.InjectFault(Fault{Path: fmt.Sprintf("/api/v2/tickets/%d", tk.ID), Status: http.StatusServiceUnavailable, Times: 2})
	for i, want := range []int{503, 503, 200} {
		if a := e.get(t, fmt.Sprintf("/api/v2/tickets/%d", tk.ID)); a.status != want {
			t.Errorf("request %d: %d, want %d", i, a.status, want)
		}
	}
	e.get(t, "/api/v2/nothing")
	st := e.srv.Stats()
	if st.Requests[EndpointTicket] != 3 || st.Requests[EndpointUnknown] != 1 || st.Statuses[503] != 2 || st.Total() != 4 {
		t.Errorf("stats %+v", st)
	}
	e.srv.ResetStats()
	if e.srv.Stats().Total() != 0 {
		t.Error("ResetStats left counts")
	}

	at := testEnd().Add(time.Hour)
	e.srv.Mutate(func(hd *HelpDesk) {
		t := hd.Ticket(tk.ID)
		t.AddConversation(Conversation{ID: 42, Body: "<div>Later</div>", BodyText: "Later", UserID: t.RequesterID, CreatedAt: at, UpdatedAt: at})
	})
	all, _ := follow(t, e, "/api/v2/tickets?updated_since="+url.QueryEscape(at.Format(time.RFC3339)))
	if got := ids(all); !slices.Equal(got, []int64{tk.ID}) {
		t.Errorf("updated since the new conversation: %v, want ticket %d", got, tk.ID)
	}
	convs, _ := follow(t, e, fmt.Sprintf("/api/v2/tickets/%d/conversations", tk.ID))
	if last := convs[len(convs)-1]; last["id"] != 42.0 || last["ticket_id"] != float64(tk.ID) {
		t.Errorf("last conversation %v", last)
	}
}

func TestAttachmentsAndSolutions(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 30}, ServerOptions{})
	var att Attachment
	for _, tk := range e.hd.Tickets {
		if len(tk.Attachments) > 0 {
			att = tk.Attachments[0]
			view := e.get(t, fmt.Sprintf("/api/v2/tickets/%d", tk.ID)).object(t)
			u := view["attachments"].([]any)[0].(map[string]any)["attachment_url"].(string)
			if u != e.ts.URL+att.AttachmentURL {
				t.Errorf("attachment_url %s", u)
			}
			break
		}
	}
	// The files need no key, as pre-signed storage URLs don't.
	a := e.getAs(t, att.AttachmentURL, "")
	if a.status != http.StatusOK || int64(len(a.body)) != att.Size || a.header.Get("Content-Type") != att.ContentType {
		t.Errorf("attachment: %d, %d bytes of %d, %s", a.status, len(a.body), att.Size, a.header.Get("Content-Type"))
	}
	if a := e.getAs(t, fmt.Sprintf("/data/helpdesk/attachments/production/%d/original/other.png", att.ID), ""); a.status != http.StatusNotFound {
		t.Errorf("a wrong file name: %d", a.status)
	}

	cats := e.get(t, "/api/v2/solutions/categories").list(t)
	if len(cats) != len(e.hd.SolutionCategories) || cats[0]["folders"] != nil {
		t.Fatalf("categories %v", cats)
	}
	cat := e.hd.SolutionCategories[0]
	folders := e.get(t, fmt.Sprintf("/api/v2/solutions/categories/%d/folders", cat.ID)).list(t)
	if len(folders) != len(cat.Folders) || folders[0]["articles"] != nil {
		t.Fatalf("folders %v", folders)
	}
	articles, _ := follow(t, e, fmt.Sprintf("/api/v2/solutions/folders/%d/articles?per_page=1", cat.Folders[0].ID))
	if len(articles) != len(cat.Folders[0].Articles) {
		t.Errorf("%d articles, want %d", len(articles), len(cat.Folders[0].Articles))
	}
	if lang := e.get(t, "/api/v2/settings/helpdesk").object(t)["primary_language"]; lang != "en" {
		t.Errorf("primary_language %v", lang)
	}
	fields := e.get(t, "/api/v2/ticket_fields?type=default_status").list(t)
	if len(fields) != 1 || fields[0]["choices"] == nil {
		t.Errorf("status field %v", fields)
	}
}
