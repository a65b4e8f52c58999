package zendesktest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time for a Server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestAuthentication(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 5}, ServerOptions{Email: "api@acme.example", Token: "s3cret", OAuthToken: "oauth-s3cret"})
	article := e.hd.HelpCenter.Articles[0].ID
	paths := []string{
		"/api/v2/incremental/tickets/cursor.json?start_time=0",
		"/api/v2/incremental/users/cursor.json?start_time=0",
		"/api/v2/incremental/ticket_events.json?start_time=0",
		"/api/v2/organizations.json",
		"/api/v2/groups.json",
		"/api/v2/ticket_fields.json",
		fmt.Sprintf("/api/v2/tickets/%d/comments.json", e.hd.Tickets[0].ID),
		fmt.Sprintf("/api/v2/tickets/%d/audits.json", e.hd.Tickets[0].ID),
		"/api/v2/ticket_audits.json",
		"/api/v2/deleted_tickets.json",
		"/api/v2/tickets/count.json",
		"/api/v2/users/me.json",
		"/api/v2/help_center/categories.json",
		"/api/v2/help_center/sections.json",
		"/api/v2/help_center/articles.json",
		fmt.Sprintf("/api/v2/help_center/articles/%d/translations.json", article),
		fmt.Sprintf("/api/v2/help_center/articles/%d/attachments.json", article),
	}
	tests := []struct {
		name       string
		user, pass string
		bearer     string
		want       int
		wantError  string
	}{
		{name: "API token", user: "api@acme.example/token", pass: "s3cret", want: http.StatusOK},
		{name: "OAuth access token", bearer: "oauth-s3cret", want: http.StatusOK},
		{name: "wrong token", user: "api@acme.example/token", pass: "guess", want: http.StatusUnauthorized, wantError: "Couldn't authenticate you"},
		{name: "another user", user: "someone@acme.example/token", pass: "s3cret", want: http.StatusUnauthorized, wantError: "Couldn't authenticate you"},
		{name: "token as a password", user: "api@acme.example", pass: "s3cret", want: http.StatusUnauthorized, wantError: "Couldn't authenticate you"},
		{name: "wrong OAuth token", bearer: "guess", want: http.StatusUnauthorized, wantError: "invalid_token"},
		{name: "API token as an OAuth token", bearer: "s3cret", want: http.StatusUnauthorized, wantError: "invalid_token"},
		{name: "no credentials", want: http.StatusUnauthorized, wantError: "Couldn't authenticate you"},
	}
	for _, tt := range tests {
		for _, path := range paths {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.ts.URL+path, nil)
				switch {
				case tt.bearer != "":
					req.Header.Set("Authorization", "Bearer "+tt.bearer)
				case tt.user != "":
					req.SetBasicAuth(tt.user, tt.pass)
				}
				status, body, _ := do(t, req)
				want := tt.want
				if tt.user == "" && tt.bearer == "" && strings.HasSuffix(path, "/me.json") {
					want = http.StatusOK // the anonymous user, see TestMe
				}
				if status != want {
					t.Fatalf("status %d, want %d: %v", status, want, body)
				}
				if status == http.StatusUnauthorized && body["error"] != tt.wantError {
					t.Errorf("401 body %v, want error %q", body, tt.wantError)
				}
			})
		}
	}
}

func TestMe(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 1}, ServerOptions{})
	status, body, _ := e.get(t, "/api/v2/users/me.json")
	user, _ := body["user"].(map[string]any)
	if status != http.StatusOK || user["email"] != e.hd.OwnerEmail || user["role"] != RoleAdmin {
		t.Errorf("me = %d %v, want the owner, an admin", status, body)
	}
	if want := fmt.Sprintf("%s/api/v2/users/%d.json", e.ts.URL, e.hd.Users[0].ID); user["url"] != want {
		t.Errorf("url = %v, want %s", user["url"], want)
	}

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.ts.URL+"/api/v2/users/me.json", nil)
	status, body, _ = do(t, req)
	user, _ = body["user"].(map[string]any)
	if status != http.StatusOK || user["id"] != nil {
		t.Errorf("anonymous me = %d %v, want the anonymous user (id null)", status, body)
	}

	// An OAuth access token acts as the owner.
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, e.ts.URL+"/api/v2/users/me.json", nil)
	req.Header.Set("Authorization", "Bearer "+e.srv.OAuthToken())
	status, body, _ = do(t, req)
	user, _ = body["user"].(map[string]any)
	if status != http.StatusOK || user["email"] != e.hd.OwnerEmail {
		t.Errorf("me with the OAuth token = %d %v, want the owner", status, body)
	}
}

// exportAll pages through an incremental export and returns the records'
// ids, page by page, and the final cursor.
func exportAll(t *testing.T, e *emulator, resource, first string) (pages [][]int64, cursor string) {
	t.Helper()
	path := first
	for range 10_000 {
		status, body, _ := e.get(t, path)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, status, body)
		}
		var ids []int64
		for _, o := range objects(t, body, resource) {
			ids = append(ids, int64(o["id"].(float64)))
		}
		pages = append(pages, ids)
		cursor, _ = body["after_cursor"].(string)
		if cursor == "" {
			t.Fatalf("page without after_cursor: %v", keysOf(body))
		}
		afterURL, _ := body["after_url"].(string)
		u, err := url.Parse(afterURL)
		if err != nil || u.Query().Get("cursor") != cursor {
			t.Fatalf("after_url %q does not carry after_cursor %q", afterURL, cursor)
		}
		if body["end_of_stream"] == true {
			return pages, cursor
		}
		if len(ids) == 0 {
			t.Fatal("an empty page that is not the end of the stream")
		}
		path = u.RequestURI()
	}
	t.Fatal("the export never ended")
	return nil, ""
}

func TestIncrementalExportPaging(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 45, EndUsers: 30}, ServerOptions{})
	tests := []struct {
		resource string
		perPage  int
		want     int
	}{
		{"tickets", 0, 45},
		{"tickets", 1, 45},
		{"tickets", 7, 45},
		{"tickets", 45, 45},
		{"users", 0, 38},
		{"users", 10, 38},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s per_page %d", tt.resource, tt.perPage), func(t *testing.T) {
			first := fmt.Sprintf("/api/v2/incremental/%s/cursor.json?start_time=0", tt.resource)
			if tt.perPage > 0 {
				first += "&per_page=" + strconv.Itoa(tt.perPage)
			}
			pages, cursor := exportAll(t, e, tt.resource, first)
			seen := map[int64]bool{}
			for i, page := range pages {
				if tt.perPage > 0 && len(page) > tt.perPage {
					t.Errorf("page %d has %d records, more than per_page", i, len(page))
				}
				for _, id := range page {
					if seen[id] {
						t.Errorf("record %d came twice", id)
					}
					seen[id] = true
				}
			}
			if len(seen) != tt.want {
				t.Errorf("%d records, want %d", len(seen), tt.want)
			}
			// The final cursor resumes after everything: nothing new.
			status, body, _ := e.get(t, fmt.Sprintf("/api/v2/incremental/%s/cursor.json?cursor=%s", tt.resource, url.QueryEscape(cursor)))
			if status != http.StatusOK || len(objects(t, body, tt.resource)) != 0 || body["end_of_stream"] != true || body["after_cursor"] != cursor {
				t.Errorf("resuming at the end: %d, %d records, end_of_stream %v, cursor moved %v",
					status, len(objects(t, body, tt.resource)), body["end_of_stream"], body["after_cursor"] != cursor)
			}
		})
	}
}

func TestIncrementalExportOrderAndUpdates(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 30}, ServerOptions{})
	pages, cursor := exportAll(t, e, "tickets", "/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=4")
	var ids []int64
	for _, p := range pages {
		ids = append(ids, p...)
	}
	for i := 1; i < len(ids); i++ {
		a, b := e.hd.Ticket(ids[i-1]), e.hd.Ticket(ids[i])
		if a.GeneratedTimestamp > b.GeneratedTimestamp || a.GeneratedTimestamp == b.GeneratedTimestamp && a.ID > b.ID {
			t.Fatalf("tickets %d and %d are out of generated_timestamp order", a.ID, b.ID)
		}
	}

	// A ticket changed after the export ended comes back, alone.
	changed := e.hd.Tickets[3].ID
	e.srv.Mutate(func(hd *HelpDesk) {
		tk := hd.Ticket(changed)
		tk.Status = StatusSolved
		tk.UpdatedAt = testEnd().Add(time.Hour)
		tk.GeneratedTimestamp = tk.UpdatedAt.Unix()
	})
	_, body, _ := e.get(t, "/api/v2/incremental/tickets/cursor.json?cursor="+url.QueryEscape(cursor))
	got := objects(t, body, "tickets")
	if len(got) != 1 || int64(got[0]["id"].(float64)) != changed || got[0]["status"] != StatusSolved {
		t.Errorf("after the change the export brought %v, want ticket %d solved", got, changed)
	}

	// start_time keeps what changed at or after it.
	start := e.hd.Tickets[10].GeneratedTimestamp
	_, body, _ = e.get(t, fmt.Sprintf("/api/v2/incremental/tickets/cursor.json?start_time=%d", start))
	for _, o := range objects(t, body, "tickets") {
		if ts := int64(o["generated_timestamp"].(float64)); ts < start {
			t.Errorf("ticket %v, generated %d, is before start_time %d", o["id"], ts, start)
		}
	}
}

func TestIncrementalExportLeavesOutTheLastMinute(t *testing.T) {
	hd := Generate(GenerateOptions{Tickets: 10, End: testEnd()})
	last := hd.Tickets[0]
	for _, tk := range hd.Tickets {
		if tk.GeneratedTimestamp > last.GeneratedTimestamp {
			last = tk
		}
	}
	clk := &clock{t: time.Unix(last.GeneratedTimestamp, 0).Add(30 * time.Second)}
	srv := NewServer(hd, ServerOptions{Now: clk.now})
	e := &emulator{hd: hd, srv: srv, ts: httptestServer(t, srv)}

	pages, cursor := exportAll(t, e, "tickets", "/api/v2/incremental/tickets/cursor.json?start_time=0")
	for _, p := range pages {
		for _, id := range p {
			if id == last.ID {
				t.Fatalf("ticket %d, changed 30 s ago, was exported", id)
			}
		}
	}
	clk.advance(time.Minute)
	_, body, _ := e.get(t, "/api/v2/incremental/tickets/cursor.json?cursor="+url.QueryEscape(cursor))
	if got := objects(t, body, "tickets"); len(got) != 1 || int64(got[0]["id"].(float64)) != last.ID {
		t.Errorf("a minute later the export brought %d tickets, want ticket %d", len(got), last.ID)
	}
}

func TestIncrementalExportErrors(t *testing.T) {
	clk := &clock{t: testEnd().Add(24 * time.Hour)}
	hd := Generate(GenerateOptions{Tickets: 3, End: testEnd()})
	srv := NewServer(hd, ServerOptions{Now: clk.now})
	e := &emulator{hd: hd, srv: srv, ts: httptestServer(t, srv)}
	now := clk.now().Unix()
	tests := []struct {
		name  string
		query string
		want  int
	}{
		{"start_time an hour ago", fmt.Sprintf("start_time=%d", now-3600), http.StatusOK},
		{"start_time 61 s ago", fmt.Sprintf("start_time=%d", now-61), http.StatusOK},
		{"start_time 30 s ago", fmt.Sprintf("start_time=%d", now-30), http.StatusBadRequest},
		{"start_time in the future", fmt.Sprintf("start_time=%d", now+3600), http.StatusBadRequest},
		{"start_time not a number", "start_time=yesterday", http.StatusBadRequest},
		{"neither start_time nor cursor", "", http.StatusBadRequest},
		{"a cursor that is not one", "cursor=bm90IGEgY3Vyc29y", http.StatusBadRequest},
		{"per_page zero", "start_time=0&per_page=0", http.StatusBadRequest},
	}
	for _, tt := range tests {
		for _, resource := range []string{"tickets", "users"} {
			t.Run(resource+" "+tt.name, func(t *testing.T) {
				status, body, _ := e.get(t, "/api/v2/incremental/"+resource+"/cursor.json?"+tt.query)
				if status != tt.want {
					t.Errorf("status %d, want %d: %v", status, tt.want, body)
				}
				if status == http.StatusBadRequest && (body["error"] == nil || body["description"] == nil) {
					t.Errorf("400 without error and description: %v", body)
				}
			})
		}
	}
}

func TestListPaging(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 20, Organizations: 23, Groups: 5}, ServerOptions{})
	var longest *Ticket
	for i := range e.hd.Tickets {
		if longest == nil || len(e.hd.Tickets[i].Comments) > len(longest.Comments) {
			longest = &e.hd.Tickets[i]
		}
	}
	lists := []struct {
		path, key string
		want      int
	}{
		{"/api/v2/organizations.json", "organizations", 23},
		{"/api/v2/groups.json", "groups", 5},
		{"/api/v2/ticket_fields.json", "ticket_fields", len(e.hd.TicketFields)},
		{fmt.Sprintf("/api/v2/tickets/%d/comments.json", longest.ID), "comments", len(longest.Comments)},
	}
	for _, l := range lists {
		for _, size := range []int{1, 3, 100} {
			t.Run(fmt.Sprintf("%s page[size]=%d", l.key, size), func(t *testing.T) {
				seen := map[any]bool{}
				var order []any
				path := fmt.Sprintf("%s?page[size]=%d", l.path, size)
				for pages := 0; ; pages++ {
					if pages > 200 {
						t.Fatal("paging never ended")
					}
					status, body, _ := e.get(t, path)
					if status != http.StatusOK {
						t.Fatalf("GET %s: %d %v", path, status, body)
					}
					recs := objects(t, body, l.key)
					if len(recs) > size {
						t.Fatalf("%d records on a page of %d", len(recs), size)
					}
					for _, r := range recs {
						if seen[r["id"]] {
							t.Fatalf("record %v came twice", r["id"])
						}
						seen[r["id"]] = true
						order = append(order, r["id"])
					}
					meta := body["meta"].(map[string]any)
					if meta["has_more"] != true {
						break
					}
					next := body["links"].(map[string]any)["next"].(string)
					u, _ := url.Parse(next)
					if u.Query().Get("page[after]") != meta["after_cursor"] {
						t.Fatalf("links.next %s does not carry meta.after_cursor", next)
					}
					path = u.RequestURI()
				}
				if len(seen) != l.want {
					t.Errorf("%d records, want %d", len(seen), l.want)
				}
				if l.key == "comments" {
					for i, c := range longest.Comments {
						if order[i] != float64(c.ID) {
							t.Fatalf("comment %d is %v, want %d: not oldest first", i, order[i], c.ID)
						}
					}
				}
			})
		}
	}

	t.Run("page[before] goes back", func(t *testing.T) {
		_, first, _ := e.get(t, "/api/v2/organizations.json?page[size]=5")
		after := first["meta"].(map[string]any)["after_cursor"].(string)
		_, second, _ := e.get(t, "/api/v2/organizations.json?page[size]=5&page[after]="+url.QueryEscape(after))
		before := second["meta"].(map[string]any)["before_cursor"].(string)
		_, back, _ := e.get(t, "/api/v2/organizations.json?page[size]=5&page[before]="+url.QueryEscape(before))
		a, b := objects(t, first, "organizations"), objects(t, back, "organizations")
		for i := range a {
			if a[i]["id"] != b[i]["id"] {
				t.Fatalf("page[before] of the second page is not the first page")
			}
		}
	})

	t.Run("page numbers", func(t *testing.T) {
		_, p1, _ := e.get(t, "/api/v2/organizations.json?per_page=10")
		if p1["count"] != float64(23) || p1["previous_page"] != nil || len(objects(t, p1, "organizations")) != 10 {
			t.Fatalf("page 1: count %v, previous %v", p1["count"], p1["previous_page"])
		}
		u, _ := url.Parse(p1["next_page"].(string))
		_, p2, _ := e.get(t, u.RequestURI())
		u, _ = url.Parse(p2["next_page"].(string))
		_, p3, _ := e.get(t, u.RequestURI())
		if n := len(objects(t, p3, "organizations")); n != 3 || p3["next_page"] != nil {
			t.Errorf("page 3 has %d organizations and next_page %v, want 3 and null", n, p3["next_page"])
		}
	})
}

func TestCommentsNotFound(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 5}, ServerOptions{})
	deleted := e.hd.Tickets[2].ID
	e.srv.Mutate(func(hd *HelpDesk) { hd.Ticket(deleted).Status = StatusDeleted })
	for _, id := range []string{"999999", "abc", strconv.FormatInt(deleted, 10)} {
		status, body, _ := e.get(t, "/api/v2/tickets/"+id+"/comments.json")
		if status != http.StatusNotFound || body["error"] != "RecordNotFound" || body["description"] != "Not found" {
			t.Errorf("comments of ticket %s: %d %v, want 404 RecordNotFound", id, status, body)
		}
	}
	status, body, _ := e.get(t, "/api/v2/no/such/endpoint.json")
	if status != http.StatusNotFound || body["error"] != "InvalidEndpoint" {
		t.Errorf("unknown endpoint: %d %v", status, body)
	}
}

func TestRateLimits(t *testing.T) {
	clk := &clock{t: testEnd().Add(24 * time.Hour)}
	hd := Generate(GenerateOptions{Tickets: 3, End: testEnd()})
	srv := NewServer(hd, ServerOptions{Now: clk.now, RequestsPerMinute: 4, IncrementalPerMinute: 2})
	e := &emulator{hd: hd, srv: srv, ts: httptestServer(t, srv)}
	const export = "/api/v2/incremental/tickets/cursor.json?start_time=0"
	const groups = "/api/v2/groups.json"

	steps := []struct {
		path      string
		advance   time.Duration
		want      int
		remaining string
	}{
		{export, 0, http.StatusOK, "3"},
		{export, 10 * time.Second, http.StatusOK, "2"},
		{export, 0, http.StatusTooManyRequests, "2"}, // over the exports' own limit
		{groups, 0, http.StatusOK, "1"},              // while other endpoints still answer
		{groups, 0, http.StatusOK, "0"},
		{groups, 0, http.StatusTooManyRequests, "0"}, // over the account's limit
		{export, 50 * time.Second, http.StatusOK, "3"},
	}
	for i, st := range steps {
		clk.advance(st.advance)
		status, body, h := e.get(t, st.path)
		if status != st.want {
			t.Fatalf("step %d: %s answered %d, want %d: %v", i, st.path, status, st.want, body)
		}
		if got := h.Get("X-Rate-Limit-Remaining"); got != st.remaining {
			t.Errorf("step %d: X-Rate-Limit-Remaining %s, want %s", i, got, st.remaining)
		}
		if h.Get("X-Rate-Limit") != "4" || h.Get("Rate-Limit") != "4" || h.Get("Ratelimit-Limit") != "4" ||
			h.Get("Rate-Limit-Reset") == "" || h.Get("Ratelimit-Remaining") != st.remaining {
			t.Errorf("step %d: rate-limit headers %v", i, h)
		}
		if status == http.StatusTooManyRequests {
			after, err := strconv.Atoi(h.Get("Retry-After"))
			if err != nil || after < 1 || after > 60 {
				t.Errorf("step %d: Retry-After %q", i, h.Get("Retry-After"))
			}
		}
	}

	// What the limits counted: the requests not answered 429, and when
	// the first and the latest came.
	st := srv.Stats()
	if st.Admitted != 5 || st.AdmittedIncremental != 3 || st.Statuses[http.StatusTooManyRequests] != 2 {
		t.Errorf("Stats: admitted %d, of them incremental %d, 429s %d; want 5, 3, 2", st.Admitted, st.AdmittedIncremental, st.Statuses[http.StatusTooManyRequests])
	}
	if began := testEnd().Add(24 * time.Hour); !st.First.Equal(began) || !st.Last.Equal(began.Add(time.Minute)) {
		t.Errorf("Stats: first %v, last %v; want %v and a minute later", st.First, st.Last, began)
	}
	srv.ResetStats()
	if st := srv.Stats(); st.Admitted != 0 || st.AdmittedIncremental != 0 || !st.First.IsZero() || !st.Last.IsZero() {
		t.Errorf("after ResetStats: %+v", st)
	}

	// Unlimited: no headers.
	e2 := newEmulator(t, GenerateOptions{Tickets: 1}, ServerOptions{})
	if _, _, h := e2.get(t, groups); h.Get("X-Rate-Limit") != "" {
		t.Errorf("an unlimited server sent X-Rate-Limit %s", h.Get("X-Rate-Limit"))
	}
}

func TestStatsAndFaults(t *testing.T) {
	e := newEmulator(t, GenerateOptions{Tickets: 4}, ServerOptions{})
	comments := fmt.Sprintf("/api/v2/tickets/%d/comments.json", e.hd.Tickets[0].ID)
	e.srv.InjectFault(Fault{Path: comments, Status: http.StatusServiceUnavailable, Times: 2})
	e.srv.InjectFault(Fault{Path: "/api/v2/groups.json", Status: http.StatusForbidden})

	want := []int{503, 503, 200, 200}
	for i, w := range want {
		if status, body, _ := e.get(t, comments); status != w {
			t.Errorf("comments request %d: %d %v, want %d", i, status, body, w)
		}
	}
	for range 2 {
		if status, _, _ := e.get(t, "/api/v2/groups.json"); status != http.StatusForbidden {
			t.Errorf("groups: %d, want 403 every time", status)
		}
	}
	e.get(t, "/api/v2/organizations.json")

	st := e.srv.Stats()
	wantReq := map[string]int{EndpointComments: 4, EndpointGroups: 2, EndpointOrganizations: 1}
	for k, v := range wantReq {
		if st.Requests[k] != v {
			t.Errorf("Stats %s = %d, want %d", k, st.Requests[k], v)
		}
	}
	if st.Total() != 7 || st.Statuses[503] != 2 || st.Statuses[403] != 2 || st.Statuses[200] != 3 {
		t.Errorf("Stats = %+v", st)
	}
	e.srv.ResetStats()
	if st := e.srv.Stats(); st.Total() != 0 {
		t.Errorf("after ResetStats: %+v", st)
	}
}

func TestAttachmentsAndURLs(t *testing.T) {
	hd := Generate(GenerateOptions{Tickets: 60, End: testEnd()})
	srv := NewServer(hd, ServerOptions{BaseURL: "https://acme.zendesk.example/"})
	e := &emulator{hd: hd, srv: srv, ts: httptestServer(t, srv)}

	var tk *Ticket
	for i := range hd.Tickets {
		for _, c := range hd.Tickets[i].Comments {
			if len(c.Attachments) > 0 {
				tk = &hd.Tickets[i]
			}
		}
	}
	if tk == nil {
		t.Fatal("no attachments generated")
	}
	_, body, _ := e.get(t, fmt.Sprintf("/api/v2/tickets/%d/comments.json", tk.ID))
	for _, c := range objects(t, body, "comments") {
		for _, a := range asObjects(c["attachments"]) {
			cu := a["content_url"].(string)
			if !strings.HasPrefix(cu, "https://acme.zendesk.example/attachments/token/") {
				t.Fatalf("content_url %s is not on the base URL", cu)
			}
			if a["url"] != fmt.Sprintf("https://acme.zendesk.example/api/v2/attachments/%.0f.json", a["id"]) {
				t.Errorf("attachment url %v", a["url"])
			}
			// Downloads need no credentials: the URL's token is the key.
			resp, err := http.Get(e.ts.URL + strings.TrimPrefix(cu, "https://acme.zendesk.example"))
			if err != nil {
				t.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || n != int64(a["size"].(float64)) || resp.Header.Get("Content-Type") != a["content_type"] {
				t.Errorf("download of %s: %d, %d bytes, %s; want %v bytes of %v", cu, resp.StatusCode, n, resp.Header.Get("Content-Type"), a["size"], a["content_type"])
			}
		}
	}
	_, body, _ = e.get(t, "/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=2")
	if u := body["after_url"].(string); !strings.HasPrefix(u, "https://acme.zendesk.example/api/v2/incremental/tickets/cursor.json?") {
		t.Errorf("after_url %s is not on the base URL", u)
	}
	if u := objects(t, body, "tickets")[0]["url"].(string); !strings.HasPrefix(u, "https://acme.zendesk.example/api/v2/tickets/") {
		t.Errorf("ticket url %s is not on the base URL", u)
	}
	if _, ok := objects(t, body, "tickets")[0]["comments"]; ok {
		t.Error("a ticket carries its comments")
	}
}
